package netlink

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"golang.org/x/sys/unix"
)

func fakeSockets(t testing.TB, socks []inet.SocketInfo) {
	old := listSockets
	listSockets = func() []inet.SocketInfo { return socks }
	t.Cleanup(func() { listSockets = old })
}

func diagReq(flags uint16, fam, proto uint8, states uint32, n int) []byte {
	body := make([]byte, diagReqLen)
	body[0], body[1] = fam, proto
	binary.LittleEndian.PutUint32(body[4:], states)
	return newMsg(unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_REQUEST|flags, 5, 0, body[:n]).bytes()
}

// diagReplies runs req and returns the messages of its replies.
func diagReplies(req []byte) []Header {
	var hs []Header
	Process(nil, req, Options{Protocol: unix.NETLINK_SOCK_DIAG}, func(b []byte) bool {
		for len(b) >= hdrLen {
			h := parseHeader(b)
			hs = append(hs, h)
			b = b[min(align4(int(h.Len)), len(b)):]
		}
		return true
	})
	return hs
}

func TestDiagDump(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	fakeSockets(t, []inet.SocketInfo{
		{Family: unix.AF_INET, Type: unix.SOCK_STREAM, State: 10, Bound: true, Local: netstack.FullAddress{Addr: lo, Port: 80}, TxQueue: 128, UID: 7, Inode: 100},
		{Family: unix.AF_INET, Type: unix.SOCK_STREAM, State: 1, Bound: true, Local: netstack.FullAddress{Addr: lo, Port: 80}, Remote: netstack.FullAddress{Addr: lo, Port: 4000}, Inode: 101},
		{Family: unix.AF_INET, Type: unix.SOCK_STREAM, State: 7, Bound: true, Inode: 102},
		{Family: unix.AF_INET6, Type: unix.SOCK_STREAM, State: 10, Bound: true, Local: netstack.FullAddress{Port: 81}, Inode: 103},
		{Family: unix.AF_INET, Type: unix.SOCK_DGRAM, State: 7, Bound: true, Local: netstack.FullAddress{Addr: lo, Port: 53}, Inode: 104},
	})
	var msgs [][]byte
	Process(nil, diagReq(unix.NLM_F_DUMP, unix.AF_INET, unix.IPPROTO_TCP, ^uint32(0), diagReqLen), Options{Protocol: unix.NETLINK_SOCK_DIAG}, func(b []byte) bool {
		msgs = append(msgs, b)
		return true
	})
	var inodes []uint32
	for _, b := range msgs {
		for len(b) >= hdrLen {
			h := parseHeader(b)
			if h.Type == unix.SOCK_DIAG_BY_FAMILY {
				m := b[hdrLen:]
				inodes = append(inodes, binary.LittleEndian.Uint32(m[4+diagSockIDLen+16:]))
				if binary.LittleEndian.Uint32(m[4+diagSockIDLen+16:]) == 100 {
					if m[1] != 10 || binary.BigEndian.Uint16(m[4:]) != 80 || [4]byte(m[8:12]) != lo.As4() ||
						binary.LittleEndian.Uint32(m[4+diagSockIDLen+8:]) != 128 || binary.LittleEndian.Uint32(m[4+diagSockIDLen+12:]) != 7 {
						t.Errorf("listener message %x", m[:diagMsgLen])
					}
				}
			}
			b = b[align4(int(h.Len)):]
		}
	}
	if len(inodes) != 2 || inodes[0] != 100 || inodes[1] != 101 {
		t.Errorf("TCP/IPv4 dump listed inodes %v, want [100 101] (not the closed one, nor IPv6 or UDP)", inodes)
	}
	hs := diagReplies(diagReq(unix.NLM_F_DUMP, unix.AF_INET, unix.IPPROTO_TCP, 1<<10, diagReqLen))
	if len(hs) != 2 || hs[0].Type != unix.SOCK_DIAG_BY_FAMILY || hs[1].Type != unix.NLMSG_DONE {
		t.Errorf("LISTEN-only dump: %+v, want one socket and NLMSG_DONE", hs)
	}
}

func TestDiagErrors(t *testing.T) {
	fakeSockets(t, nil)
	errCode := func(req []byte) (uint16, int32) {
		var typ uint16
		var code int32
		Process(nil, req, Options{Protocol: unix.NETLINK_SOCK_DIAG}, func(b []byte) bool {
			h := parseHeader(b)
			typ, code = h.Type, -int32(binary.LittleEndian.Uint32(b[hdrLen:]))
			return true
		})
		return typ, code
	}
	for _, c := range []struct {
		name string
		req  []byte
		typ  uint16
		want unix.Errno
	}{
		{"unknown family", diagReq(unix.NLM_F_DUMP, unix.AF_UNIX, 0, 0, diagReqLen), unix.NLMSG_ERROR, unix.ENOENT},
		{"family beyond AF_MAX", diagReq(unix.NLM_F_DUMP, unix.AF_MAX, 0, 0, diagReqLen), unix.NLMSG_ERROR, unix.EINVAL},
		{"short", diagReq(unix.NLM_F_DUMP, unix.AF_INET, unix.IPPROTO_TCP, 0, 20), unix.NLMSG_ERROR, unix.EINVAL},
		{"one byte", diagReq(unix.NLM_F_DUMP, unix.AF_INET, unix.IPPROTO_TCP, 0, 1), unix.NLMSG_ERROR, unix.EINVAL},
		{"unknown protocol", diagReq(unix.NLM_F_DUMP, unix.AF_INET, 253, 0, diagReqLen), unix.NLMSG_DONE, unix.ENOENT},
		{"unknown protocol, exact", diagReq(0, unix.AF_INET, 253, 0, diagReqLen), unix.NLMSG_ERROR, unix.ENOENT},
		{"no such socket", diagReq(0, unix.AF_INET, unix.IPPROTO_TCP, 0, diagReqLen), unix.NLMSG_ERROR, unix.ENOENT},
	} {
		typ, code := errCode(c.req)
		if typ != c.typ || code != int32(c.want) {
			t.Errorf("%s: type %d error %d, want type %d error %d", c.name, typ, code, c.typ, int32(c.want))
		}
	}
}
