package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newDeliverCmd(a *app) *cobra.Command {
	var mailbox int64
	var apiURL, tokenFile, scheme string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "deliver --mailbox ID --token-file FILE",
		Short: "MTA pipe: hand one mail on stdin to the running daemon",
		Long: `Read one mail on stdin and hand it to the running daemon's API
(CreateTicketFromMailData). For Postfix's mailbox_command or an alias:

  support: "|/usr/bin/postdesk deliver --mailbox 607 --token-file /etc/postdesk/deliver.token"

Exit status: 0 imported; 65 (EX_DATAERR) permanently rejected (not mail, too
large): the MTA bounces it; 75 (EX_TEMPFAIL) anything temporary (daemon down,
store busy, credentials or configuration problems): the MTA keeps the mail
and tries again, so nothing is lost.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mailbox <= 0 {
				return &exitError{exitTempFail, errors.New("--mailbox ID is required")}
			}
			if apiURL == "" {
				cfg, err := a.loadConfig()
				if err != nil {
					return &exitError{exitTempFail, err}
				}
				apiURL = cfg.HTTP.PublicURL
			}
			token := ""
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return &exitError{exitTempFail, fmt.Errorf("token file: %w", err)}
				}
				token = strings.TrimSpace(string(b))
			}
			raw, err := readMail(a.stdin)
			if errors.As(err, new(mailTooLarge)) {
				return &exitError{exitDataErr, fmt.Errorf("rejected: %w", err)}
			}
			if err != nil {
				return &exitError{exitTempFail, fmt.Errorf("read stdin: %w", err)}
			}
			code, msg, err := postMail(cmd, apiURL, mailbox, scheme, token, raw, timeout)
			if err != nil {
				return &exitError{exitTempFail, err}
			}
			switch {
			case code == http.StatusOK:
				fmt.Fprintln(a.stdout, msg)
				return nil
			case code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge:
				return &exitError{exitDataErr, fmt.Errorf("rejected (%d): %s", code, msg)}
			default:
				return &exitError{exitTempFail, fmt.Errorf("temporary failure (%d): %s", code, msg)}
			}
		},
	}
	cmd.Flags().Int64VarP(&mailbox, "mailbox", "m", 0, "MailboxId (required)")
	cmd.Flags().StringVar(&apiURL, "url", "", "base URL of the daemon (default: http.public_url of the configuration)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding an API token (postdesk token create)")
	cmd.Flags().StringVar(&scheme, "scheme", "Bearer", "authorization scheme of the token: Bearer or SOTicket")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up (exit 75) after this long")
	return cmd
}

// postMail sends raw as message/rfc822 and returns the status and a short
// description of the answer.
func postMail(cmd *cobra.Command, base string, mailbox int64, scheme, token string, raw []byte, timeout time.Duration) (int, string, error) {
	u := strings.TrimRight(base, "/") + "/api/v1/Agents/CustomerService/CreateTicketFromMailData?MailboxId=" + url.QueryEscape(fmt.Sprint(mailbox))
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, u, bytes.NewReader(raw))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "message/rfc822")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", scheme+" "+token)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ans struct {
		TicketID     int64  `json:"TicketId"`
		Title        string `json:"Title"`
		ErrorMessage string `json:"ErrorMessage"`
	}
	_ = json.Unmarshal(body, &ans)
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.StatusCode, fmt.Sprintf("ticket %d: %s", ans.TicketID, ans.Title), nil
	case ans.ErrorMessage != "":
		return resp.StatusCode, ans.ErrorMessage, nil
	default:
		return resp.StatusCode, strings.TrimSpace(string(body)), nil
	}
}
