package imaptest

import (
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// MessageInfo describes one message as List found it.
type MessageInfo struct {
	UID       imap.UID
	Flags     []imap.Flag
	Size      int64
	MessageID string // from the envelope, without angle brackets
}

// Seen reports whether the message carries \Seen.
func (m MessageInfo) Seen() bool { return slices.Contains(m.Flags, imap.FlagSeen) }

// List logs in over plaintext and examines folder (read-only: no flag
// changes), returning its messages in UID order.
func List(addr, username, password, folder string) ([]MessageInfo, error) {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Login(username, password).Wait(); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("examine %q: %w", folder, err)
	}
	var out []MessageInfo
	if sel.NumMessages > 0 {
		var all imap.SeqSet
		all.AddRange(1, 0)
		msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, Envelope: true}).Collect()
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		for _, m := range msgs {
			mi := MessageInfo{UID: m.UID, Flags: m.Flags, Size: m.RFC822Size}
			if m.Envelope != nil {
				mi.MessageID = m.Envelope.MessageID
			}
			out = append(out, mi)
		}
	}
	slices.SortFunc(out, func(a, b MessageInfo) int { return int(a.UID) - int(b.UID) })
	_ = c.Logout().Wait()
	return out, nil
}
