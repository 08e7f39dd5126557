package ticket

import (
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFilenameBytes caps sanitized filenames (most file systems allow 255).
const maxFilenameBytes = 200

// sanitizeFilename makes an attachment name safe to store and to offer for
// download: only the last path component (either slash), no control or
// format characters (NUL, CR, LF, bidi overrides), no "..", no leading dots
// or trailing dots/spaces, valid UTF-8, at most maxFilenameBytes bytes with
// the extension kept. It returns "" when nothing usable is left.
func sanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		case unicode.Is(unicode.Cf, r): // bidi overrides, zero-width
			return -1
		case r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|':
			return '_'
		}
		return r
	}, name)
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", ".")
	}
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	if len(name) > maxFilenameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || !utf8.ValidString(ext) {
			ext = ""
		}
		stem := name[:maxFilenameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = strings.TrimRight(stem, ". ") + ext
	}
	return name
}

// extensions for invented attachment names, for types where the system
// table is missing or ambiguous.
var extensionByType = map[string]string{
	"text/plain":                       ".txt",
	"text/html":                        ".html",
	"text/calendar":                    ".ics",
	"text/csv":                         ".csv",
	"text/rfc822-headers":              ".txt",
	"message/rfc822":                   ".eml",
	"message/global":                   ".eml",
	"message/delivery-status":          ".txt",
	"message/disposition-notification": ".txt",
	"image/jpeg":                       ".jpg",
	"image/jpg":                        ".jpg",
	"image/pjpeg":                      ".jpg",
	"image/png":                        ".png",
	"image/gif":                        ".gif",
	"application/pdf":                  ".pdf",
	"application/pgp-signature":        ".asc",
	"application/pgp-encrypted":        ".asc",
	"application/pkcs7-signature":      ".p7s",
	"application/x-pkcs7-signature":    ".p7s",
	"application/pkcs7-mime":           ".p7m",
	"application/x-pkcs7-mime":         ".p7m",
	"application/ms-tnef":              ".dat",
	"application/octet-stream":         ".bin",
	"application/zip":                  ".zip",
	"application/msword":               ".doc",
}

// extensionFor returns a file extension (with dot) for a content type.
func extensionFor(ctype string) string {
	if ext, ok := extensionByType[ctype]; ok {
		return ext
	}
	if exts, err := mime.ExtensionsByType(ctype); err == nil && len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

// typeByExtension maps extensions (lower case) to content types for
// attachments whose sender gave no usable type (uuencode, TNEF).
var typeByExtension = map[string]string{
	".txt": "text/plain", ".htm": "text/html", ".html": "text/html", ".csv": "text/csv",
	".ics": "text/calendar", ".vcf": "text/vcard", ".rtf": "application/rtf",
	".eml": "message/rfc822", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
	".gif": "image/gif", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
	".pdf": "application/pdf", ".zip": "application/zip", ".doc": "application/msword",
	".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".mov":  "video/quicktime", ".mp4": "video/mp4", ".mp3": "audio/mpeg", ".wav": "audio/wav",
	".msg": "application/vnd.ms-outlook", ".dat": "application/octet-stream",
}

// contentTypeByName guesses a content type from a filename's extension;
// application/octet-stream when unknown.
func contentTypeByName(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := typeByExtension[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if i := strings.IndexByte(t, ';'); i >= 0 {
			t = t[:i]
		}
		if t = strings.ToLower(strings.TrimSpace(t)); validMediaType(t) {
			return t
		}
	}
	return "application/octet-stream"
}
