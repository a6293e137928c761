package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/loader"
)

// execCredentials returns the credentials a task with credentials c runs
// a program with, as Linux computes them at execve for a file without
// file capabilities (fs/exec.c bprm_fill_uid, security/commoncap.c
// cap_bprm_creds_from_file), and whether set-ID bits took effect.
//
//   - A set-user-ID file makes its owner the effective and saved UID; a
//     set-group-ID file with group execute permission does the same for
//     the group. Neither applies on a nosuid mount or under no_new_privs.
//   - The saved and filesystem IDs follow the effective ones.
//   - If the real or effective UID is 0 the permitted set becomes
//     bounding | inheritable, otherwise it is emptied; under
//     no_new_privs it can't grow. With SECBIT_NOROOT, UID 0 is no
//     different from any other.
//   - The ambient set is kept, unless the program's set-ID bits made the
//     effective IDs differ from the real ones, and is added to the
//     permitted set. Effective is the permitted set if the effective UID
//     is 0, otherwise the ambient set.
func execCredentials(c *Credentials, mode, fileUID, fileGID uint32, nosuid bool) (n *Credentials, setID bool) {
	n = c.Copy()
	if !nosuid && !c.NoNewPrivs {
		if mode&unix.S_ISUID != 0 && fileUID != c.EffectiveUID {
			n.EffectiveUID, setID = fileUID, true
		}
		if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP && fileGID != c.EffectiveGID {
			n.EffectiveGID, setID = fileGID, true
		}
	}
	n.SavedUID, n.FSUID = n.EffectiveUID, n.EffectiveUID
	n.SavedGID, n.FSGID = n.EffectiveGID, n.EffectiveGID
	root := c.SecureBits&SecbitNoRoot == 0
	if root && (n.EffectiveUID == 0 || n.RealUID == 0) {
		n.Permitted = c.Bounding | c.Inheritable
	} else {
		n.Permitted = 0
	}
	if c.NoNewPrivs {
		n.Permitted &= c.Permitted
	}
	if n.EffectiveUID != c.RealUID || n.EffectiveGID != c.RealGID {
		n.Ambient = 0
	}
	n.Permitted |= n.Ambient
	n.Effective = n.Ambient
	if root && n.EffectiveUID == 0 {
		n.Effective = n.Permitted
	}
	return n, setID
}

// secureExec reports whether an exec from old to n credentials must run
// the program in secure mode (AT_SECURE): the IDs differ or a non-root
// task gains capabilities.
func secureExec(old, n *Credentials) bool {
	if n.EffectiveUID != n.RealUID || n.EffectiveGID != n.RealGID {
		return true
	}
	return n.RealUID != 0 && n.Permitted&^old.Permitted != 0
}

// execIDs is the loader's IDs callback for a task: it computes the exec
// credentials from the program's file and records them in *out.
func (t *Task) execIDs(out **Credentials, setID *bool) func(loader.File) (loader.IDs, error) {
	return func(f loader.File) (loader.IDs, error) {
		c := t.Credentials()
		n := c
		if ef, ok := f.(*execFile); ok {
			st, err := ef.fd.Stat(t.ctx)
			if err != nil {
				return loader.IDs{}, err
			}
			nosuid := ef.fd.VirtualDentry().Mount().Flags()&unix.MS_NOSUID != 0
			n, *setID = execCredentials(c, uint32(st.Mode), st.Uid, st.Gid, nosuid)
		}
		*out = n
		return loader.IDs{
			UID: n.RealUID, EUID: n.EffectiveUID, GID: n.RealGID, EGID: n.EffectiveGID,
			Secure: secureExec(c, n),
		}, nil
	}
}
