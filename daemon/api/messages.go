package api

// msgKey names a message of the catalog.
type msgKey int

// Catalog messages.
const (
	msgInternal msgKey = iota
	msgNoRoute
	msgMethod
	msgMediaType
	msgNotAcceptable
	msgBadBody
	msgBadUTF8
	msgTooDeep
	msgMissingMailbox
	msgMissingData
	msgBadNumber
	msgNotMail
	msgUnknownMailbox
	msgUnknownPerson
	msgTooLarge
	msgSenderCap
	msgQuarantined
	msgTicketNotFound
	msgUnavailable
	msgCredentials
	msgForbidden
	msgThrottled
	msgAppToken
	msgXSRF
	msgBadTimeZone
	msgBadCulture
	msgBadID
)

// catalogLanguages are the languages of catalog, in its column order; the
// first is the fallback.
var catalogLanguages = []string{"en", "de", "nl", "no", "sv"}

// catalog holds each message in the languages of catalogLanguages. Messages
// take fmt arguments where marked.
var catalog = map[msgKey][5]string{
	msgInternal: {
		"Internal error. Quote the request id to the administrator.",
		"Interner Fehler. Nennen Sie dem Administrator die Request-ID.",
		"Interne fout. Geef de request-id door aan de beheerder.",
		"Intern feil. Oppgi forespørsels-ID-en til administratoren.",
		"Internt fel. Ange begäran-ID:t för administratören.",
	},
	msgNoRoute: {
		"No such resource.",
		"Diese Ressource gibt es nicht.",
		"Deze bron bestaat niet.",
		"Ressursen finnes ikke.",
		"Resursen finns inte.",
	},
	msgMethod: {
		"This HTTP method is not allowed here.",
		"Diese HTTP-Methode ist hier nicht erlaubt.",
		"Deze HTTP-methode is hier niet toegestaan.",
		"Denne HTTP-metoden er ikke tillatt her.",
		"Den här HTTP-metoden är inte tillåten här.",
	},
	msgMediaType: {
		"Unsupported Content-Type %q: use application/json, text/json, application/xml, text/xml, application/x-www-form-urlencoded or message/rfc822.",
		"Nicht unterstützter Content-Type %q: erlaubt sind application/json, text/json, application/xml, text/xml, application/x-www-form-urlencoded und message/rfc822.",
		"Content-Type %q wordt niet ondersteund: gebruik application/json, text/json, application/xml, text/xml, application/x-www-form-urlencoded of message/rfc822.",
		"Content-Type %q støttes ikke: bruk application/json, text/json, application/xml, text/xml, application/x-www-form-urlencoded eller message/rfc822.",
		"Content-Type %q stöds inte: använd application/json, text/json, application/xml, text/xml, application/x-www-form-urlencoded eller message/rfc822.",
	},
	msgNotAcceptable: {
		"Cannot answer in any type the Accept header allows: use application/json or application/xml.",
		"Keine Antwort in einem vom Accept-Header erlaubten Typ möglich: verwenden Sie application/json oder application/xml.",
		"Kan niet antwoorden in een type dat de Accept-header toestaat: gebruik application/json of application/xml.",
		"Kan ikke svare i noen type Accept-headeren tillater: bruk application/json eller application/xml.",
		"Kan inte svara i någon typ som Accept-huvudet tillåter: använd application/json eller application/xml.",
	},
	msgBadBody: {
		"The request body cannot be read: %s",
		"Der Request-Body ist nicht lesbar: %s",
		"De request-body is onleesbaar: %s",
		"Forespørselens innhold kan ikke leses: %s",
		"Begärans innehåll kan inte läsas: %s",
	},
	msgBadUTF8: {
		"The request body is not valid UTF-8.",
		"Der Request-Body ist kein gültiges UTF-8.",
		"De request-body is geen geldige UTF-8.",
		"Forespørselens innhold er ikke gyldig UTF-8.",
		"Begärans innehåll är inte giltig UTF-8.",
	},
	msgTooDeep: {
		"The request body is nested too deeply.",
		"Der Request-Body ist zu tief verschachtelt.",
		"De request-body is te diep genest.",
		"Forespørselens innhold er nøstet for dypt.",
		"Begärans innehåll är för djupt nästlat.",
	},
	msgMissingMailbox: {
		"MailboxId is required and must be a positive number.",
		"MailboxId fehlt oder ist keine positive Zahl.",
		"MailboxId ontbreekt of is geen positief getal.",
		"MailboxId mangler eller er ikke et positivt tall.",
		"MailboxId saknas eller är inte ett positivt tal.",
	},
	msgMissingData: {
		"Data is required: the raw RFC 822 mail.",
		"Data fehlt: die E-Mail im RFC-822-Format.",
		"Data ontbreekt: de e-mail in RFC 822-formaat.",
		"Data mangler: e-posten i RFC 822-format.",
		"Data saknas: e-postmeddelandet i RFC 822-format.",
	},
	msgBadNumber: {
		"%s must be a whole number.",
		"%s muss eine ganze Zahl sein.",
		"%s moet een geheel getal zijn.",
		"%s må være et heltall.",
		"%s måste vara ett heltal.",
	},
	msgNotMail: {
		"Data is not an RFC 822 mail message.",
		"Data ist keine E-Mail im RFC-822-Format.",
		"Data is geen e-mailbericht in RFC 822-formaat.",
		"Data er ikke en e-post i RFC 822-format.",
		"Data är inte ett e-postmeddelande i RFC 822-format.",
	},
	msgUnknownMailbox: {
		"No mailbox has this MailboxId.",
		"Es gibt kein Postfach mit dieser MailboxId.",
		"Er is geen mailbox met deze MailboxId.",
		"Ingen postkasse har denne MailboxId-en.",
		"Ingen brevlåda har detta MailboxId.",
	},
	msgUnknownPerson: {
		"No person has this PersonId.",
		"Es gibt keine Person mit dieser PersonId.",
		"Er is geen persoon met deze PersonId.",
		"Ingen person har denne PersonId-en.",
		"Ingen person har detta PersonId.",
	},
	msgTooLarge: {
		"The message is too large.",
		"Die Nachricht ist zu groß.",
		"Het bericht is te groot.",
		"Meldingen er for stor.",
		"Meddelandet är för stort.",
	},
	msgSenderCap: {
		"This sender has opened too many tickets this hour; the mail was quarantined.",
		"Dieser Absender hat in dieser Stunde zu viele Tickets eröffnet; die E-Mail wurde in Quarantäne gestellt.",
		"Deze afzender heeft dit uur te veel tickets geopend; de e-mail is in quarantaine geplaatst.",
		"Denne avsenderen har åpnet for mange saker denne timen; e-posten ble satt i karantene.",
		"Avsändaren har öppnat för många ärenden den här timmen; e-postmeddelandet sattes i karantän.",
	},
	msgQuarantined: {
		"A routing rule quarantined the mail; no ticket was created.",
		"Eine Regel hat die E-Mail in Quarantäne gestellt; es wurde kein Ticket erstellt.",
		"Een regel heeft de e-mail in quarantaine geplaatst; er is geen ticket aangemaakt.",
		"En regel satte e-posten i karantene; ingen sak ble opprettet.",
		"En regel satte e-postmeddelandet i karantän; inget ärende skapades.",
	},
	msgTicketNotFound: {
		"No such ticket.",
		"Dieses Ticket gibt es nicht.",
		"Dit ticket bestaat niet.",
		"Saken finnes ikke.",
		"Ärendet finns inte.",
	},
	msgUnavailable: {
		"The service is temporarily unavailable; retry later.",
		"Der Dienst ist vorübergehend nicht verfügbar; versuchen Sie es später erneut.",
		"De dienst is tijdelijk niet beschikbaar; probeer het later opnieuw.",
		"Tjenesten er midlertidig utilgjengelig; prøv igjen senere.",
		"Tjänsten är tillfälligt otillgänglig; försök igen senare.",
	},
	msgCredentials: {
		"Missing or invalid credentials.",
		"Anmeldedaten fehlen oder sind ungültig.",
		"Aanmeldgegevens ontbreken of zijn ongeldig.",
		"Påloggingsinformasjon mangler eller er ugyldig.",
		"Inloggningsuppgifter saknas eller är ogiltiga.",
	},
	msgForbidden: {
		"Your role does not allow this.",
		"Ihre Rolle erlaubt das nicht.",
		"Uw rol staat dit niet toe.",
		"Rollen din tillater ikke dette.",
		"Din roll tillåter inte detta.",
	},
	msgThrottled: {
		"Too many failed logins from your address; wait before trying again.",
		"Zu viele fehlgeschlagene Anmeldungen von Ihrer Adresse; warten Sie, bevor Sie es erneut versuchen.",
		"Te veel mislukte aanmeldingen vanaf uw adres; wacht voordat u het opnieuw probeert.",
		"For mange mislykkede pålogginger fra adressen din; vent før du prøver igjen.",
		"För många misslyckade inloggningar från din adress; vänta innan du försöker igen.",
	},
	msgAppToken: {
		"A known SO-AppToken is required.",
		"Ein bekanntes SO-AppToken ist erforderlich.",
		"Een bekend SO-AppToken is vereist.",
		"En kjent SO-AppToken kreves.",
		"En känd SO-AppToken krävs.",
	},
	msgXSRF: {
		"The X-XSRF-TOKEN header must match the XSRF-TOKEN cookie.",
		"Der X-XSRF-TOKEN-Header muss zum XSRF-TOKEN-Cookie passen.",
		"De X-XSRF-TOKEN-header moet overeenkomen met de XSRF-TOKEN-cookie.",
		"X-XSRF-TOKEN-headeren må samsvare med XSRF-TOKEN-informasjonskapselen.",
		"X-XSRF-TOKEN-huvudet måste stämma med XSRF-TOKEN-kakan.",
	},
	msgBadTimeZone: {
		"Unknown SO-TimeZone %q: use an IANA zone such as Europe/Oslo.",
		"Unbekannte SO-TimeZone %q: verwenden Sie eine IANA-Zone wie Europe/Berlin.",
		"Onbekende SO-TimeZone %q: gebruik een IANA-zone zoals Europe/Amsterdam.",
		"Ukjent SO-TimeZone %q: bruk en IANA-sone som Europe/Oslo.",
		"Okänd SO-TimeZone %q: använd en IANA-zon som Europe/Stockholm.",
	},
	msgBadCulture: {
		"Unknown SO-Culture %q: use a language tag such as en-US.",
		"Unbekannte SO-Culture %q: verwenden Sie einen Sprachcode wie de-DE.",
		"Onbekende SO-Culture %q: gebruik een taalcode zoals nl-NL.",
		"Ukjent SO-Culture %q: bruk en språkkode som nb-NO.",
		"Okänd SO-Culture %q: använd en språkkod som sv-SE.",
	},
	msgBadID: {
		"The id in the path must be a positive number.",
		"Die ID im Pfad muss eine positive Zahl sein.",
		"De id in het pad moet een positief getal zijn.",
		"ID-en i stien må være et positivt tall.",
		"ID:t i sökvägen måste vara ett positivt tal.",
	},
}
