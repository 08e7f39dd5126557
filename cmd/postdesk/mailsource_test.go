package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mboxCases are mbox files that mboxItems must split exactly as splitOrOne
// splits them in memory (the form stdin is read in).
var mboxCases = []string{
	"From a@x Thu Nov 26 10:00:00 2026\nFrom: a@x\nSubject: one\n\nbody\n\n",
	"From a@x Thu Nov 26 10:00:00 2026\r\nFrom: a@x\r\n\r\nbody\r\n\r\nFrom b@x Thu Nov 26 10:00:01 2026\r\nFrom: b@x\r\n\r\nsecond\r\n",
	// A "From " line not after an empty line is body text.
	"From a@x Thu Nov 26 10:00:00 2026\nFrom: a@x\n\nline\nFrom b@x Thu Nov 26 10:00:01 2026\nstill one\n",
	// mboxrd quoting, one and two levels, and three (left as it is).
	"From a@x Thu Nov 26 10:00:00 2026\nFrom: a@x\n\n>From the start\n>>From the middle\n>>>From deep\n> From not quoted\n>From \r\n>From\n",
	// Two separators in a row: no empty mail.
	"From a@x Thu Nov 26 10:00:00 2026\n\nFrom b@x Thu Nov 26 10:00:01 2026\nFrom: b@x\n\nbody\n",
	"From a@x Thu Nov 26 10:00:00 2026\nFrom b@x Thu Nov 26 10:00:01 2026\nFrom: b@x\n",
	// No newline at the end; a separator as the last line.
	"From a@x Thu Nov 26 10:00:00 2026\nFrom: a@x\n\nno newline",
	"From a@x Thu Nov 26 10:00:00 2026\nFrom: a@x\n\nbody\n\nFrom b@x Thu Nov 26 10:00:01 2026",
	"From a@x Thu Nov 26 10:00:00 2026\n",
	// Lines longer than the scanner's buffer, blank-looking and not.
	"From a@x Thu Nov 26 10:00:00 2026\nFrom: a@x\n\n" + strings.Repeat("x", 300) + "\n\nFrom b@x Thu Nov 26 10:00:01 2026\n" + strings.Repeat("y", 200) + "\r\n",
	"From a@x Thu Nov 26 10:00:00 2026\nFrom: a@x\n\n" + strings.Repeat("\r", 150) + "\nFrom b@x Thu Nov 26 10:00:01 2026\nb\n",
	"From a@x Thu Nov 26 10:00:00 2026 " + strings.Repeat("z", 100) + "\nFrom: a@x\n\nbody\n",
}

// checkMboxItems writes data to a file and compares mboxItems with
// splitOrOne, mail by mail.
func checkMboxItems(t *testing.T, data string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	want := splitOrOne(path, []byte(data))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := mboxItems(path, f)
	if err != nil {
		t.Fatalf("mboxItems(%q): %v", data, err)
	}
	if len(got) != len(want) {
		t.Fatalf("mboxItems(%q): %d mails, splitOrOne %d", data, len(got), len(want))
	}
	for i := range want {
		w, _ := want[i].read()
		g, err := got[i].read()
		if err != nil {
			t.Fatalf("mail %d of %q: %v", i+1, data, err)
		}
		if got[i].label != want[i].label || !bytes.Equal(g, w) {
			t.Fatalf("mail %d of %q:\ngot  %s %q\nwant %s %q", i+1, data, got[i].label, g, want[i].label, w)
		}
		// Read again: the first read must not have changed the file's
		// bytes nor left state behind.
		if g2, _ := got[i].read(); !bytes.Equal(g2, w) {
			t.Fatalf("mail %d of %q read twice: %q", i+1, data, g2)
		}
	}
}

func TestMboxItemsMatchSplit(t *testing.T) {
	for _, buf := range []int{16, 64, 1 << 20} {
		mboxReadBuffer = buf
		for _, data := range mboxCases {
			checkMboxItems(t, data)
		}
	}
	mboxReadBuffer = 1 << 20
}

func FuzzMboxItems(f *testing.F) {
	for _, data := range mboxCases {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, body string) {
		// Every input starts with a separator, as collectMail makes sure.
		data := "From a@x Thu Nov 26 10:00:00 2026\n" + body
		mboxReadBuffer = 16
		defer func() { mboxReadBuffer = 1 << 20 }()
		checkMboxItems(t, data)
	})
}

// TestMailOverTheFileLimit: a mail file, stdin or an mbox mail over
// maxMailFile is an error, not a mail cut short.
func TestMailOverTheFileLimit(t *testing.T) {
	defer func(n int64) { maxMailFile = n }(maxMailFile)
	maxMailFile = 100
	dir := t.TempDir()
	big := "From: a@x\nSubject: big\n\n" + strings.Repeat("x", 200) + "\n"
	small := "From: a@x\nSubject: small\n\nhi\n"
	os.WriteFile(filepath.Join(dir, "big.eml"), []byte(big), 0o600)
	os.WriteFile(filepath.Join(dir, "small.eml"), []byte(small), 0o600)
	mbox := "From a@x Thu Nov 26 10:00:00 2026\n" + big + "\nFrom a@x Thu Nov 26 10:00:01 2026\n" + small
	os.WriteFile(filepath.Join(dir, "m.mbox"), []byte(mbox), 0o600)
	items, closeAll, err := collectMail([]string{filepath.Join(dir, "big.eml"), filepath.Join(dir, "small.eml"), filepath.Join(dir, "m.mbox")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if len(items) != 4 {
		t.Fatalf("%d items, want 4", len(items))
	}
	for i, wantErr := range []bool{true, false, true, false} {
		raw, err := items[i].read()
		if (err != nil) != wantErr || (err == nil && len(raw) == 0) {
			t.Errorf("%s: %d bytes, %v; want an error: %v", items[i].label, len(raw), err, wantErr)
		}
	}
	if _, _, err := collectMail([]string{"-"}, strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "more than the 100 bytes") {
		t.Errorf("stdin over the limit: %v", err)
	}
	// An error after an mbox was opened closes it and is returned.
	if _, _, err := collectMail([]string{filepath.Join(dir, "m.mbox"), filepath.Join(dir, "missing")}, nil); err == nil {
		t.Error("a missing file: no error")
	}
}
