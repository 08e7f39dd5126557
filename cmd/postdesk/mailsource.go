package main

import (
	"bufio"
	"bytes"
	"errors"
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
// quarantines anything over its own, smaller limit. More is an error, not
// a mail cut short. (A variable for the tests.)
var maxMailFile int64 = 1 << 30

// mailTooLarge is the error of a mail over maxMailFile.
type mailTooLarge struct{}

func (mailTooLarge) Error() string {
	return fmt.Sprintf("more than the %d bytes a mail may have", maxMailFile)
}

// readMail reads all of r, at most maxMailFile bytes.
func readMail(r io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxMailFile+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > maxMailFile {
		return nil, mailTooLarge{}
	}
	return raw, nil
}

// collectMail expands the command line into mails: "-" is stdin, a
// directory is a Maildir (cur/ and new/) or a folder of mail files, a file
// starting with an mbox "From " line is split into its messages, any other
// file is one mail. An mbox file is indexed, not read into memory: its
// mails are read one at a time as the import gets to them, from the file
// left open until closeAll.
func collectMail(args []string, stdin io.Reader) (items []mailItem, closeAll func(), err error) {
	var files []*os.File
	closeFiles := func() {
		for _, f := range files {
			f.Close()
		}
	}
	defer func() {
		if err != nil {
			closeFiles()
		}
	}()
	for _, arg := range args {
		if arg == "-" {
			raw, err := readMail(stdin)
			if err != nil {
				return nil, nil, fmt.Errorf("read stdin: %w", err)
			}
			items = append(items, splitOrOne("stdin", raw)...)
			continue
		}
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, nil, err
		}
		if fi.IsDir() {
			paths, err := dirMail(arg)
			if err != nil {
				return nil, nil, err
			}
			for _, p := range paths {
				items = append(items, fileItem(p))
			}
			continue
		}
		isMbox, err := startsWithFromLine(arg)
		if err != nil {
			return nil, nil, err
		}
		if !isMbox {
			items = append(items, fileItem(arg))
			continue
		}
		f, err := os.Open(arg)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f)
		mails, err := mboxItems(arg, f)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", arg, err)
		}
		items = append(items, mails...)
	}
	return items, closeFiles, nil
}

func fileItem(path string) mailItem {
	return mailItem{label: path, read: func() ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readMail(f)
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

// mboxReadBuffer is the buffer mboxItems scans with; a longer line is read
// in pieces (tests make it small).
var mboxReadBuffer = 1 << 20

// mboxHead is how much of a line mboxItems tests for a separator: a real
// "From " line is far shorter.
const mboxHead = 4096

// mboxItems indexes the mbox in f in one pass, holding one buffer of it at
// a time, and returns its mails as splitOrOne would split the whole file:
// each item reads its span with ReadAt and unescapes it when the import
// gets to it. A separator is recognized by the start of its line (its
// first mboxHead bytes), which for a real "From " line is all of it.
func mboxItems(label string, f *os.File) ([]mailItem, error) {
	r := bufio.NewReaderSize(f, mboxReadBuffer)
	var items []mailItem
	add := func(start, end int64) {
		if end <= start {
			return // nothing between two separators
		}
		n := len(items) + 1
		items = append(items, mailItem{label: fmt.Sprintf("%s#%d", label, n), read: func() ([]byte, error) {
			if end-start > maxMailFile {
				return nil, mailTooLarge{}
			}
			buf := make([]byte, end-start)
			if _, err := f.ReadAt(buf, start); err != nil {
				return nil, fmt.Errorf("read mail at byte %d: %w", start, err)
			}
			return unescapeMbox(buf), nil
		}})
	}
	var off int64
	start := int64(-1) // where the current mail's lines begin; -1 before the first separator
	prevBlank := true
	var headBuf []byte
	for {
		// One line: its length, whether it is empty (CR and LF only),
		// and its first mboxHead bytes to test for a separator.
		chunk, err := r.ReadSlice('\n')
		n := int64(len(chunk))
		blank := len(bytes.TrimRight(chunk, "\r\n")) == 0
		head := chunk
		if err == bufio.ErrBufferFull {
			headBuf = append(headBuf[:0], chunk...)
			for err == bufio.ErrBufferFull {
				chunk, err = r.ReadSlice('\n')
				n += int64(len(chunk))
				blank = blank && len(bytes.TrimRight(chunk, "\r\n")) == 0
				headBuf = append(headBuf, chunk[:min(len(chunk), max(mboxHead-len(headBuf), 0))]...)
			}
			head = headBuf
		}
		sep := prevBlank && mboxFrom.Match(bytes.TrimRight(head, "\r\n"))
		if err != nil && err != io.EOF {
			return nil, err
		}
		if n == 0 {
			break
		}
		switch {
		case sep:
			if start >= 0 {
				add(start, off)
			}
			start = off + n // the separator itself is not part of the mail
			prevBlank = false
		case start < 0:
			// Not an mbox after all (collectMail checks the first line).
			return nil, errors.New("no mbox separator (From line) at the start")
		default:
			prevBlank = blank
		}
		off += n
		if err == io.EOF {
			break
		}
	}
	if start >= 0 {
		add(start, off)
	}
	return items, nil
}

// unescapeMbox removes the quoting '>' of ">From " and ">>From " lines in
// place, as splitOrOne does.
func unescapeMbox(msg []byte) []byte {
	out := msg[:0]
	for line := range bytes.Lines(msg) {
		trimmed := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(trimmed, []byte(">From ")) || bytes.HasPrefix(trimmed, []byte(">>From ")) {
			line = line[1:]
		}
		out = append(out, line...) // out never overtakes line: it only shrinks
	}
	return out
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
