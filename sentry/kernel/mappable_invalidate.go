package kernel

import "github.com/palisade-sandbox/palisade/sentry/memory"

// mappingTracker is implemented by memory-backed files whose pages can
// leave while mapped (tmpfs truncation); see mm.InvalidatingMappable.
type mappingTracker interface {
	MappingID() any
	AddMapper(m memory.Mapper)
	RemoveMapper(m memory.Mapper)
}

// MappingID implements mm.InvalidatingMappable.MappingID: nil for files
// that do not track their mappings.
func (m *sharedFileMappable) MappingID() any {
	if t, ok := m.tr.(mappingTracker); ok {
		return t.MappingID()
	}
	return nil
}

// AddMapper implements mm.InvalidatingMappable.AddMapper.
func (m *sharedFileMappable) AddMapper(mp memory.Mapper) {
	if t, ok := m.tr.(mappingTracker); ok {
		t.AddMapper(mp)
	}
}

// RemoveMapper implements mm.InvalidatingMappable.RemoveMapper.
func (m *sharedFileMappable) RemoveMapper(mp memory.Mapper) {
	if t, ok := m.tr.(mappingTracker); ok {
		t.RemoveMapper(mp)
	}
}
