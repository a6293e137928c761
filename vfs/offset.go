package vfs

// SetOffset sets the file position, for files whose position starts
// elsewhere than 0 (a host file donated with its own offset).
func (fd *FileDescription) SetOffset(off int64) {
	fd.offMu.Lock()
	fd.off = off
	fd.offMu.Unlock()
}
