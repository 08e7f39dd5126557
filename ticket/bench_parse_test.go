package ticket

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkParseCorpus parses every mail of the three corpora per
// iteration and reports mails/s next to the usual figures.
func BenchmarkParseCorpus(b *testing.B) {
	var mails [][]byte
	total := 0
	for _, pat := range []string{"zammad/*.box", "hunnysoft-zbateson/emails/*.txt", "mime4j/*/*.msg"} {
		files, _ := filepath.Glob(filepath.Join(corporaDir, pat))
		for _, f := range files {
			if strings.HasSuffix(f, "README.txt") {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			mails = append(mails, raw)
			total += len(raw)
		}
	}
	if len(mails) == 0 {
		b.Skipf("corpora not found under %s", corporaDir)
	}
	b.ReportAllocs()
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for _, raw := range mails {
			ParseMail(raw)
		}
	}
	b.ReportMetric(float64(len(mails))*float64(b.N)/b.Elapsed().Seconds(), "mails/s")
}
