package header

import (
	"encoding/binary"
)

// VirtioNetHdrSize is the size of struct virtio_net_hdr, which a packet
// socket with PACKET_VNET_HDR puts before every frame (packet(7)).
const VirtioNetHdrSize = 10

// virtio_net_hdr flags (include/uapi/linux/virtio_net.h).
const (
	// VirtioNetHdrNeedsCsum: the checksum at CsumStart+CsumOffset holds
	// only the pseudo-header sum; the rest is still to be computed.
	VirtioNetHdrNeedsCsum = 1
	// VirtioNetHdrDataValid: the sender's kernel vouches for the
	// checksum.
	VirtioNetHdrDataValid = 2
)

// VirtioNetHdr is a parsed struct virtio_net_hdr (host byte order, which
// a packet socket uses: little-endian here).
type VirtioNetHdr struct {
	Flags, GSOType                         uint8
	HdrLen, GSOSize, CsumStart, CsumOffset uint16
}

// ParseVirtioNetHdr parses the header in front of a frame and returns it
// and the frame.
func ParseVirtioNetHdr(b []byte) (VirtioNetHdr, []byte, error) {
	var h VirtioNetHdr
	if len(b) < VirtioNetHdrSize {
		return h, nil, ErrTooShort
	}
	h.Flags, h.GSOType = b[0], b[1]
	h.HdrLen = binary.LittleEndian.Uint16(b[2:])
	h.GSOSize = binary.LittleEndian.Uint16(b[4:])
	h.CsumStart = binary.LittleEndian.Uint16(b[6:])
	h.CsumOffset = binary.LittleEndian.Uint16(b[8:])
	return h, b[VirtioNetHdrSize:], nil
}

// CompleteChecksum finishes a partial checksum in frame as
// VirtioNetHdrNeedsCsum asks: the one's complement sum of frame from
// CsumStart on (the checksum field holding the pseudo-header sum) is
// stored at CsumStart+CsumOffset. It fails, changing nothing, if the
// offsets do not fit in frame.
func (h *VirtioNetHdr) CompleteChecksum(frame []byte) error {
	if !h.ChecksumFits(frame) {
		return ErrBadLength
	}
	start, off := int(h.CsumStart), int(h.CsumStart)+int(h.CsumOffset)
	binary.BigEndian.PutUint16(frame[off:], ^Checksum(frame[start:], 0))
	return nil
}

// ChecksumFits reports whether the partial checksum VirtioNetHdrNeedsCsum
// describes lies within frame.
func (h *VirtioNetHdr) ChecksumFits(frame []byte) bool {
	start, off := int(h.CsumStart), int(h.CsumStart)+int(h.CsumOffset)
	return start <= len(frame) && off+2 <= len(frame) && off >= start
}
