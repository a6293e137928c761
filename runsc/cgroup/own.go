package cgroup

// Own returns the cgroup the caller is in now, in every hierarchy a
// sandbox's cgroup uses. runsc create joins the sandbox's cgroup to start
// the sandbox in it and then goes back to Own's: a runsc process (runsc
// run waits for the container) must not count against the container's
// limits, nor be killed with the cgroup by delete.
func Own() (*Cgroup, error) {
	mode, hs, err := hostHierarchies()
	if err != nil {
		return nil, err
	}
	paths, err := hostOwnCgroups(hs)()
	if err != nil {
		return nil, err
	}
	return newCgroup(mode, hs, paths), nil
}
