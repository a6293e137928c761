package protocol

import (
	"bytes"
	"errors"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

var sampleAttr = Attr{
	Mode: unix.S_IFREG | 0o644, UID: 1000, GID: 1001, Nlink: 2, Ino: 1 << 40, Dev: 0x803,
	Rdev: 7, Size: -1, Blksize: 4096, Blocks: 8, Atime: -5, Mtime: 1 << 62, Ctime: 3,
}

func sampleRequests() []Message {
	return []Message{
		&AttachReq{Version: Version},
		&WalkReq{Node: 7, Names: []string{"a", "bb", strings.Repeat("c", MaxNameLen)}},
		&OpenReq{Node: 1 << 63, Flags: unix.O_RDWR | unix.O_TRUNC},
		&CreateReq{Dir: 3, Name: "new", Flags: unix.O_WRONLY, Mode: 0o640, UID: 1, GID: NoID},
		&MkdirReq{Dir: 3, Name: "d", Mode: 0o755, UID: 2, GID: 3},
		&SymlinkReq{Dir: 3, Name: "l", Target: "../x/y", UID: 4, GID: 5},
		&LinkReq{Dir: 3, Name: "h", Target: 9},
		&UnlinkReq{Dir: 3, Name: "gone", Flags: unix.AT_REMOVEDIR},
		&RenameReq{OldDir: 1, OldName: "o", NewDir: 2, NewName: "n", Flags: unix.RENAME_NOREPLACE},
		&SetAttrReq{Node: 5, Mask: SetAttrAll, Mode: 0o600, UID: 6, GID: 7, Size: 1 << 33, Atime: 1, Mtime: -1},
		&ReadlinkReq{Node: 11},
		&StatReq{Node: 12},
		&CloseReq{Nodes: []NodeID{1, 2, 3, 1 << 60}},
		&WalkSiblingsReq{Node: 8, Names: []string{"x", "", strings.Repeat("s", MaxNameLen)}},
	}
}

func sampleResponses() []Message {
	return []Message{
		&AttachResp{Version: Version, Flags: AttachReadOnly, Node: 1, Attr: sampleAttr},
		&WalkResp{Entries: []WalkEntry{{Node: 2, Attr: sampleAttr}, {Node: 3}}},
		NewAttrResp(MsgOpen, sampleAttr),
		NewAttrResp(MsgStat, sampleAttr),
		NewAttrResp(MsgSetAttr, sampleAttr),
		NewNodeResp(MsgCreate, 4, sampleAttr),
		NewNodeResp(MsgMkdir, 5, sampleAttr),
		NewNodeResp(MsgSymlink, 6, sampleAttr),
		NewNodeResp(MsgLink, 7, sampleAttr),
		&ReadlinkResp{Target: strings.Repeat("t", MaxPathLen)},
		&WalkSiblingsResp{Entries: []SiblingEntry{
			{Node: 2, Attr: sampleAttr}, {Errno: unix.ENOENT}, {Node: 3}, {Errno: unix.EINVAL},
		}},
	}
}

func TestRequestsRoundTrip(t *testing.T) {
	for _, m := range sampleRequests() {
		b := Marshal(nil, Header{Tag: 0xdeadbeef, Type: m.Type()}, m)
		h, payload, err := ParseHeader(b)
		if err != nil {
			t.Fatalf("%v: ParseHeader: %v", m.Type(), err)
		}
		if h.Tag != 0xdeadbeef || h.Type != m.Type() || h.Errno != 0 {
			t.Errorf("%v: header = %+v, want tag 0xdeadbeef, type %v, errno 0", m.Type(), h, m.Type())
		}
		got, err := DecodeRequest(h, payload)
		if err != nil {
			t.Fatalf("%v: DecodeRequest: %v", m.Type(), err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%v: decoded %+v, want %+v", m.Type(), got, m)
		}
	}
}

func TestResponsesRoundTrip(t *testing.T) {
	for _, m := range sampleResponses() {
		b := Marshal(nil, Header{Tag: 1, Type: m.Type()}, m)
		h, payload, err := ParseHeader(b)
		if err != nil {
			t.Fatalf("%v: ParseHeader: %v", m.Type(), err)
		}
		got, err := DecodeResponse(h, payload)
		if err != nil {
			t.Fatalf("%v: DecodeResponse: %v", m.Type(), err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%v: decoded %+v, want %+v", m.Type(), got, m)
		}
	}
}

func TestErrorResponses(t *testing.T) {
	// A Walk error keeps its partial payload.
	w := &WalkResp{Entries: []WalkEntry{{Node: 2, Attr: sampleAttr}}}
	h, payload, err := ParseHeader(Marshal(nil, Header{Tag: 9, Type: MsgWalk, Errno: unix.ENOENT}, w))
	if err != nil || h.Errno != unix.ENOENT {
		t.Fatalf("walk error header = %+v, %v; want errno ENOENT", h, err)
	}
	got, err := DecodeResponse(h, payload)
	if err != nil || !reflect.DeepEqual(got, w) {
		t.Errorf("walk error payload = %+v, %v; want %+v", got, err, w)
	}
	if n := ResponseFDs(h, got); n != 1 {
		t.Errorf("walk error with 1 entry wants %d descriptors, want 1", n)
	}
	// A WalkSiblings response carries one descriptor per name found.
	ws := &WalkSiblingsResp{Entries: []SiblingEntry{{Errno: unix.ENOENT}, {Node: 4}, {Errno: unix.ELOOP}, {Node: 5}}}
	h, payload, _ = ParseHeader(Marshal(nil, Header{Tag: 9, Type: MsgWalkSiblings}, ws))
	if got, err := DecodeResponse(h, payload); err != nil || ResponseFDs(h, got) != 2 {
		t.Errorf("sibling walk with 2 of 4 found: %v, wants %d descriptors; want 2", err, ResponseFDs(h, got))
	}
	// Any other error has no payload.
	h, payload, _ = ParseHeader(Marshal(nil, Header{Tag: 9, Type: MsgOpen, Errno: unix.ELOOP}, nil))
	if got, err := DecodeResponse(h, payload); got != nil || err != nil {
		t.Errorf("open error decoded to %+v, %v; want nil, nil", got, err)
	}
	b := Marshal(nil, Header{Tag: 9, Type: MsgOpen, Errno: unix.ELOOP}, NewAttrResp(MsgOpen, sampleAttr))
	h, payload, _ = ParseHeader(b)
	if _, err := DecodeResponse(h, payload); !errors.Is(err, ErrMalformed) {
		t.Errorf("open error with payload: err = %v, want ErrMalformed", err)
	}
	// Nor has a WalkSiblings error (the directory itself failed).
	b = Marshal(nil, Header{Tag: 9, Type: MsgWalkSiblings, Errno: unix.ENOTDIR}, ws)
	h, payload, _ = ParseHeader(b)
	if _, err := DecodeResponse(h, payload); !errors.Is(err, ErrMalformed) {
		t.Errorf("sibling walk error with payload: err = %v, want ErrMalformed", err)
	}
	h, payload, _ = ParseHeader(Marshal(nil, Header{Tag: 9, Type: MsgWalkSiblings, Errno: unix.ENOTDIR}, nil))
	if got, err := DecodeResponse(h, payload); got != nil || err != nil {
		t.Errorf("sibling walk error decoded to %+v, %v; want nil, nil", got, err)
	}
}

func TestTruncatedAndExtendedRejected(t *testing.T) {
	check := func(kind string, m Message, decode func(Header, []byte) (Message, error)) {
		b := Marshal(nil, Header{Tag: 1, Type: m.Type()}, m)
		for i := 0; i < len(b); i++ {
			h, payload, err := ParseHeader(b[:i])
			if err == nil {
				_, err = decode(h, payload)
			}
			if err == nil {
				t.Errorf("%s %v truncated to %d of %d bytes decoded without error", kind, m.Type(), i, len(b))
			}
		}
		h, payload, _ := ParseHeader(append(b, 0))
		if _, err := decode(h, payload); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s %v with a trailing byte: err = %v, want ErrMalformed", kind, m.Type(), err)
		}
	}
	for _, m := range sampleRequests() {
		check("request", m, DecodeRequest)
	}
	for _, m := range sampleResponses() {
		check("response", m, DecodeResponse)
	}
}

func TestHeaderRejects(t *testing.T) {
	ok := Marshal(nil, Header{Tag: 1, Type: MsgStat}, &StatReq{Node: 1})
	tests := []struct {
		name string
		mut  func(b []byte)
	}{
		{"type 0", func(b []byte) { b[4], b[5] = 0, 0 }},
		{"unknown type", func(b []byte) { b[4], b[5] = 0xff, 0 }},
		{"reserved set", func(b []byte) { b[6] = 1 }},
	}
	for _, tc := range tests {
		b := append([]byte(nil), ok...)
		tc.mut(b)
		if _, _, err := ParseHeader(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseHeader err = %v, want ErrMalformed", tc.name, err)
		}
	}
	// A request must not carry an errno.
	b := Marshal(nil, Header{Tag: 1, Type: MsgStat, Errno: unix.EIO}, &StatReq{Node: 1})
	h, payload, _ := ParseHeader(b)
	if _, err := DecodeRequest(h, payload); !errors.Is(err, ErrMalformed) {
		t.Errorf("request with errno: err = %v, want ErrMalformed", err)
	}
}

func TestLimitsRejected(t *testing.T) {
	names := make([]string, MaxWalkNames+1)
	for i := range names {
		names[i] = "x"
	}
	nodes := make([]NodeID, MaxCloseNodes+1)
	siblings := make([]string, MaxSiblingNames+1)
	for i := range siblings {
		siblings[i] = "s"
	}
	tests := []struct {
		name string
		m    Message
	}{
		{"walk of no names", &WalkReq{Node: 1}},
		{"walk of too many names", &WalkReq{Node: 1, Names: names}},
		{"name over the wire limit", &WalkReq{Node: 1, Names: []string{strings.Repeat("n", MaxNameLen+2)}}},
		{"sibling walk of no names", &WalkSiblingsReq{Node: 1}},
		{"sibling walk of too many names", &WalkSiblingsReq{Node: 1, Names: siblings}},
		{"sibling name over the wire limit", &WalkSiblingsReq{Node: 1, Names: []string{"ok", strings.Repeat("n", MaxNameLen+2)}}},
		{"close of no nodes", &CloseReq{}},
		{"close of too many nodes", &CloseReq{Nodes: nodes}},
		{"symlink target too long", &SymlinkReq{Dir: 1, Name: "l", Target: strings.Repeat("t", MaxPathLen+2)}},
	}
	for _, tc := range tests {
		h, payload, err := ParseHeader(Marshal(nil, Header{Tag: 1, Type: tc.m.Type()}, tc.m))
		if err == nil {
			_, err = DecodeRequest(h, payload)
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
		}
	}
	// A count that claims more entries than the bytes left.
	b := Marshal(nil, Header{Tag: 1, Type: MsgWalk}, nil)
	b = append(b, 40, 0) // 40 entries, no bytes
	h, payload, _ := ParseHeader(b)
	if _, err := DecodeResponse(h, payload); !errors.Is(err, ErrMalformed) {
		t.Errorf("walk response with lying count: err = %v, want ErrMalformed", err)
	}
	// A sibling response with too many entries, or a count the bytes
	// cannot hold.
	many := &WalkSiblingsResp{Entries: make([]SiblingEntry, MaxSiblingNames+1)}
	for i := range many.Entries {
		many.Entries[i].Errno = unix.ENOENT
	}
	h, payload, _ = ParseHeader(Marshal(nil, Header{Tag: 1, Type: MsgWalkSiblings}, many))
	if _, err := DecodeResponse(h, payload); !errors.Is(err, ErrMalformed) {
		t.Errorf("sibling response with %d entries: err = %v, want ErrMalformed", len(many.Entries), err)
	}
	b = append(Marshal(nil, Header{Tag: 1, Type: MsgWalkSiblings}, nil), 3, 0, 0, 0, 0, 0)
	h, payload, _ = ParseHeader(b)
	if _, err := DecodeResponse(h, payload); !errors.Is(err, ErrMalformed) {
		t.Errorf("sibling response with lying count: err = %v, want ErrMalformed", err)
	}
}

func TestFullMessagesFit(t *testing.T) {
	// The largest WalkSiblings request and response fit in one message.
	names := make([]string, MaxSiblingNames)
	entries := make([]SiblingEntry, MaxSiblingNames)
	for i := range names {
		names[i] = strings.Repeat("n", MaxNameLen)
		entries[i] = SiblingEntry{Node: NodeID(i + 1), Attr: sampleAttr}
	}
	for _, m := range []Message{&WalkSiblingsReq{Node: 1, Names: names}, &WalkSiblingsResp{Entries: entries}} {
		if n := len(Marshal(nil, Header{Tag: 1, Type: m.Type()}, m)); n > MaxMessageSize {
			t.Errorf("largest %T is %d bytes, over MaxMessageSize %d", m, n, MaxMessageSize)
		}
	}
}

// decodeAny feeds b to every decoder; it must never panic.
func decodeAny(b []byte) {
	h, payload, err := ParseHeader(b)
	if err != nil {
		return
	}
	if m, err := DecodeRequest(h, payload); err == nil {
		// A decoded message re-encodes to the same bytes.
		if again := Marshal(nil, h, m); !bytes.Equal(again, b) {
			panic("request re-encoding differs")
		}
	}
	if m, err := DecodeResponse(h, payload); err == nil {
		ResponseFDs(h, m)
	}
}

func TestGarbageDoesNotPanic(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var seeds [][]byte
	for _, m := range append(sampleRequests(), sampleResponses()...) {
		seeds = append(seeds, Marshal(nil, Header{Tag: 1, Type: m.Type()}, m))
	}
	for i := 0; i < 20000; i++ {
		b := append([]byte(nil), seeds[rng.Intn(len(seeds))]...)
		for j := rng.Intn(6); j >= 0; j-- {
			switch rng.Intn(3) {
			case 0:
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			case 1:
				b = b[:rng.Intn(len(b)+1)]
			case 2:
				b = append(b, byte(rng.Intn(256)))
			}
			if len(b) == 0 {
				break
			}
		}
		decodeAny(b)
	}
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(200))
		rng.Read(b)
		decodeAny(b)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range append(sampleRequests(), sampleResponses()...) {
		f.Add(Marshal(nil, Header{Tag: 1, Type: m.Type()}, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) { decodeAny(b) })
}
