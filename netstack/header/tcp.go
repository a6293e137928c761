package header

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// TCPMinHeaderSize is the size of a TCP header without options, and
// TCPMaxHeaderSize the largest a data offset of 15 words allows.
const (
	TCPMinHeaderSize = 20
	TCPMaxHeaderSize = 60
	// TCPProtocolNumber is TCP's IP protocol number.
	TCPProtocolNumber = 6
)

// TCP flag bits (the low byte of the flags word).
const (
	TCPFlagFIN = 1 << 0
	TCPFlagSYN = 1 << 1
	TCPFlagRST = 1 << 2
	TCPFlagPSH = 1 << 3
	TCPFlagACK = 1 << 4
	TCPFlagURG = 1 << 5
	TCPFlagECE = 1 << 6
	TCPFlagCWR = 1 << 7
)

// TCP option kinds (RFC 9293, RFC 7323, RFC 2018).
const (
	TCPOptEOL           = 0
	TCPOptNOP           = 1
	TCPOptMSS           = 2
	TCPOptWS            = 3
	TCPOptSACKPermitted = 4
	TCPOptSACK          = 5
	TCPOptTS            = 8
)

// TCPMaxSACKBlocks is the most SACK blocks an option can carry (four fill the
// 40 option bytes; three fit beside a timestamp).
const TCPMaxSACKBlocks = 4

// TCPMaxWindowShift is the largest window scale shift RFC 7323 allows.
const TCPMaxWindowShift = 14

// ErrTCPMalformed is returned for a segment too short for its header or with
// a data offset outside the segment.
var ErrTCPMalformed = errors.New("malformed TCP header")

// TCP is the fixed part of a TCP header and its raw option bytes.
type TCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	// DataOffset is the header length in bytes (20..60).
	DataOffset int
	Flags      uint8
	Window     uint16
	Checksum   uint16
	Urgent     uint16
	// Options are the option bytes (DataOffset-20 of them); when parsed
	// they alias the segment.
	Options []byte
}

// SACKBlock is one SACK block: the bytes [Start, End) were received.
type SACKBlock struct {
	Start, End uint32
}

// TCPOptions are the options TCP understands. Parsing never allocates.
type TCPOptions struct {
	HasMSS bool
	MSS    uint16
	HasWS  bool
	// WS is the window scale shift, clamped to TCPMaxWindowShift.
	WS            uint8
	SACKPermitted bool
	HasTS         bool
	TSVal, TSEcr  uint32
	// NumSACK blocks of SACK are valid.
	NumSACK int
	SACK    [TCPMaxSACKBlocks]SACKBlock
	// Bogus is set when an option had an impossible length; parsing stopped
	// there, and the options before it are kept (Linux does the same).
	Bogus bool
}

// ParseTCP parses the header at the start of b and returns it with the
// payload (aliasing b).
func ParseTCP(b []byte) (TCP, []byte, error) {
	var h TCP
	if len(b) < TCPMinHeaderSize {
		return h, nil, ErrTCPMalformed
	}
	off := int(b[12]>>4) * 4
	if off < TCPMinHeaderSize || off > len(b) {
		return h, nil, ErrTCPMalformed
	}
	h.SrcPort = binary.BigEndian.Uint16(b[0:])
	h.DstPort = binary.BigEndian.Uint16(b[2:])
	h.Seq = binary.BigEndian.Uint32(b[4:])
	h.Ack = binary.BigEndian.Uint32(b[8:])
	h.DataOffset = off
	h.Flags = b[13]
	h.Window = binary.BigEndian.Uint16(b[14:])
	h.Checksum = binary.BigEndian.Uint16(b[16:])
	h.Urgent = binary.BigEndian.Uint16(b[18:])
	h.Options = b[TCPMinHeaderSize:off]
	return h, b[off:], nil
}

// ParseTCPOptions decodes opts. Unknown options are skipped; an option whose
// length is impossible ends parsing and sets Bogus; options that are only
// valid on a SYN are decoded anyway and the caller decides.
func ParseTCPOptions(opts []byte) TCPOptions {
	var o TCPOptions
	for i := 0; i < len(opts); {
		kind := opts[i]
		if kind == TCPOptEOL {
			break
		}
		if kind == TCPOptNOP {
			i++
			continue
		}
		if i+1 >= len(opts) {
			o.Bogus = true
			break
		}
		l := int(opts[i+1])
		if l < 2 || i+l > len(opts) {
			o.Bogus = true
			break
		}
		v := opts[i+2 : i+l]
		switch kind {
		case TCPOptMSS:
			if l == 4 {
				o.HasMSS = true
				o.MSS = binary.BigEndian.Uint16(v)
			}
		case TCPOptWS:
			if l == 3 {
				o.HasWS = true
				o.WS = min(v[0], TCPMaxWindowShift)
			}
		case TCPOptSACKPermitted:
			if l == 2 {
				o.SACKPermitted = true
			}
		case TCPOptTS:
			if l == 10 {
				o.HasTS = true
				o.TSVal = binary.BigEndian.Uint32(v)
				o.TSEcr = binary.BigEndian.Uint32(v[4:])
			}
		case TCPOptSACK:
			if (l-2)%8 == 0 {
				n := min((l-2)/8, TCPMaxSACKBlocks)
				for j := 0; j < n; j++ {
					o.SACK[j] = SACKBlock{
						Start: binary.BigEndian.Uint32(v[j*8:]),
						End:   binary.BigEndian.Uint32(v[j*8+4:]),
					}
				}
				o.NumSACK = n
			}
		}
		i += l
	}
	return o
}

// EncodedLen is the size of o as EncodeTCPOptions writes it, a multiple of 4
// and at most 40. SACK blocks that do not fit are left out.
func (o *TCPOptions) EncodedLen() int {
	n := 0
	if o.HasMSS {
		n += 4
	}
	if o.HasWS {
		n += 4 // NOP + 3
	}
	if o.SACKPermitted && !o.HasTS {
		n += 4 // NOP NOP + 2
	}
	if o.HasTS {
		n += 12 // NOP NOP (or SACK-permitted) + 10
	}
	if o.NumSACK > 0 {
		n += 4 + 8*o.fitSACK(n)
	}
	return n
}

// fitSACK is how many SACK blocks fit after used option bytes.
func (o *TCPOptions) fitSACK(used int) int {
	room := (40 - used - 4) / 8
	return max(0, min(o.NumSACK, room, TCPMaxSACKBlocks))
}

// EncodeTCPOptions writes o into b (at least o.EncodedLen() bytes) in the
// order Linux uses, padded with NOPs to 4-byte words, and returns its length.
func EncodeTCPOptions(b []byte, o *TCPOptions) int {
	n := 0
	if o.HasMSS {
		b[0], b[1] = TCPOptMSS, 4
		binary.BigEndian.PutUint16(b[2:], o.MSS)
		n = 4
	}
	if o.HasTS {
		if o.SACKPermitted {
			b[n], b[n+1] = TCPOptSACKPermitted, 2
		} else {
			b[n], b[n+1] = TCPOptNOP, TCPOptNOP
		}
		b[n+2], b[n+3] = TCPOptTS, 10
		binary.BigEndian.PutUint32(b[n+4:], o.TSVal)
		binary.BigEndian.PutUint32(b[n+8:], o.TSEcr)
		n += 12
	} else if o.SACKPermitted {
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptNOP, TCPOptNOP, TCPOptSACKPermitted, 2
		n += 4
	}
	if o.HasWS {
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptNOP, TCPOptWS, 3, o.WS
		n += 4
	}
	if o.NumSACK > 0 {
		k := o.fitSACK(n)
		if k > 0 {
			b[n], b[n+1], b[n+2], b[n+3] = TCPOptNOP, TCPOptNOP, TCPOptSACK, byte(2+8*k)
			n += 4
			for j := 0; j < k; j++ {
				binary.BigEndian.PutUint32(b[n:], o.SACK[j].Start)
				binary.BigEndian.PutUint32(b[n+4:], o.SACK[j].End)
				n += 8
			}
		}
	}
	return n
}

// Encode writes h's fixed header into b (at least 20 bytes) with the data
// offset set from h.DataOffset (20 if zero). Options are not copied: the
// caller writes them at b[20:].
func (h *TCP) Encode(b []byte) {
	off := h.DataOffset
	if off == 0 {
		off = TCPMinHeaderSize
	}
	binary.BigEndian.PutUint16(b[0:], h.SrcPort)
	binary.BigEndian.PutUint16(b[2:], h.DstPort)
	binary.BigEndian.PutUint32(b[4:], h.Seq)
	binary.BigEndian.PutUint32(b[8:], h.Ack)
	b[12] = byte(off/4) << 4
	b[13] = h.Flags
	binary.BigEndian.PutUint16(b[14:], h.Window)
	binary.BigEndian.PutUint16(b[16:], h.Checksum)
	binary.BigEndian.PutUint16(b[18:], h.Urgent)
}

// TCPChecksum computes the checksum field for segment (header with a zero
// checksum field, and data) between src and dst.
func TCPChecksum(src, dst netip.Addr, segment []byte) uint16 {
	sum := PseudoHeaderChecksum(TCPProtocolNumber, src, dst, uint32(len(segment)))
	return ^Checksum(segment, sum)
}

// TCPChecksumValid reports whether segment's checksum is right.
func TCPChecksumValid(src, dst netip.Addr, segment []byte) bool {
	sum := PseudoHeaderChecksum(TCPProtocolNumber, src, dst, uint32(len(segment)))
	return Checksum(segment, sum) == 0xffff
}

// SetTCPChecksum fills in the checksum field of segment.
func SetTCPChecksum(src, dst netip.Addr, segment []byte) {
	segment[16], segment[17] = 0, 0
	binary.BigEndian.PutUint16(segment[16:], TCPChecksum(src, dst, segment))
}
