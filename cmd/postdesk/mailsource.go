package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// mailItem is one mail to import; read returns its raw bytes.
type mailItem struct {
	label string
	read  func() ([]byte, error)
}

// maxMailFile bounds what one file (or stdin) may hold; the import core
// quarantines anything over its own, smaller limit.
const maxMailFile = 1 << 30

// collectMail expands the command line into mails: "-" is stdin, a
// directory is a Maildir (cur/ and new/) or a folder of mail files, a file
// starting with an mbox "From " line is split into its messages, any other
// file is one mail.
func collectMail(args []string, stdin io.Reader) ([]mailItem, error) {
	var items []mailItem
	for _, arg := range args {
		if arg == "-" {
			raw, err := io.ReadAll(io.LimitReader(stdin, maxMailFile))
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			items = append(items, splitOrOne("stdin", raw)...)
			continue
		}
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if fi.IsDir() {
			files, err := dirMail(arg)
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				items = append(items, fileItem(f))
			}
			continue
		}
		isMbox, err := startsWithFromLine(arg)
		if err != nil {
			return nil, err
		}
		if !isMbox {
			items = append(items, fileItem(arg))
			continue
		}
		raw, err := os.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		items = append(items, splitOrOne(arg, raw)...)
	}
	return items, nil
}

func fileItem(path string) mailItem {
	return mailItem{label: path, read: func() ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxMailFile))
	}}
}

// dirMail lists a Maildir's messages (new/ and cur/, RFC-less but
// https://cr.yp.to/proto/maildir.html) or, for a plain folder, its files,
// in name order (Maildir names start with the delivery time).
func dirMail(dir string) ([]string, error) {
	var files []string
	sub := []string{filepath.Join(dir, "cur"), filepath.Join(dir, "new")}
	if _, err := os.Stat(sub[0]); err != nil {
		if _, err := os.Stat(sub[1]); err != nil {
			sub = []string{dir}
		}
	}
	for _, d := range sub {
		entries, err := os.ReadDir(d)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && e.Name()[0] != '.' {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

// mboxFrom matches an mbox separator line ("From sender Thu Nov 26 10:00:00 2026").
var mboxFrom = regexp.MustCompile(`^From \S*\s.*\d`)

func startsWithFromLine(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, err
	}
	return mboxFrom.MatchString(line), nil
}

// splitOrOne splits an mbox (mboxo/mboxrd: a separator is a "From " line
// at the start or after an empty line; ">From " lines are unescaped) or
// returns data as one mail.
func splitOrOne(label string, data []byte) []mailItem {
	if !mboxFrom.Match(firstLine(data)) {
		return []mailItem{{label: label, read: func() ([]byte, error) { return data, nil }}}
	}
	var items []mailItem
	var cur [][]byte
	flush := func() {
		if len(cur) == 0 {
			return
		}
		msg := bytes.Join(cur, nil)
		n := len(items) + 1
		items = append(items, mailItem{label: fmt.Sprintf("%s#%d", label, n), read: func() ([]byte, error) { return msg, nil }})
		cur = nil
	}
	prevBlank := true
	for line := range bytes.Lines(data) {
		trimmed := bytes.TrimRight(line, "\r\n")
		if prevBlank && mboxFrom.Match(trimmed) {
			flush()
			cur = [][]byte{} // the separator itself is not part of the mail
			prevBlank = false
			continue
		}
		if bytes.HasPrefix(trimmed, []byte(">From ")) || bytes.HasPrefix(trimmed, []byte(">>From ")) {
			line = line[1:]
		}
		cur = append(cur, line)
		prevBlank = len(trimmed) == 0
	}
	flush()
	return items
}

func firstLine(data []byte) []byte {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return bytes.TrimRight(data[:i], "\r")
	}
	return data
}
