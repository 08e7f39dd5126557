package config

import "testing"

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"0": 0, "1234": 1234, "25MiB": 25 << 20, "25 mib": 25 << 20, "10MB": 10_000_000,
		"1.5KiB": 1536, "2GiB": 2 << 30, "3gb": 3_000_000_000, "512B": 512, "1k": 1024, "4M": 4 << 20,
	} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "lots", "-1", "1.5B", "10 TB", "NaN", "1e300"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	for b, want := range map[ByteSize]string{0: "0", 1000: "1000", 1024: "1KiB", 25 << 20: "25MiB", 3 << 30: "3GiB"} {
		if got := b.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(b), got, want)
		}
		if back, err := ParseByteSize(want); err != nil || back != b {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", want, back, err, int64(b))
		}
	}
}
