package resident

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// textRss sums the Rss of the mappings t covers, from /proc/self/smaps.
func textRss(t *testing.T, text *Text) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	total, in := 0, false
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			lo, _, _ := strings.Cut(fields[0], "-")
			start, _ := strconv.ParseUint(lo, 16, 64)
			in = false
			for _, r := range text.ranges {
				if uintptr(start) == r[0] {
					in = true
				}
			}
			continue
		}
		if in && len(fields) >= 2 && fields[0] == "Rss:" {
			n, _ := strconv.Atoi(fields[1])
			total += n
		}
	}
	return total
}

func TestDropShrinksTextAndTheProcessGoesOn(t *testing.T) {
	text, err := FindText()
	if err != nil {
		t.Fatal(err)
	}
	if len(text.ranges) == 0 {
		t.Fatal("no read-only mappings of the executable found")
	}
	before := textRss(t, text)
	text.Drop()
	after := textRss(t, text)
	if after >= before {
		t.Errorf("text Rss %d kB after Drop, %d kB before: want less", after, before)
	}
	// Code runs on: faults bring back what is used.
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		sb.WriteString(strconv.Itoa(i))
	}
	if len(sb.String()) != 190 {
		t.Fatal("computation after Drop went wrong")
	}
}
