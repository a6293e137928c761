#!/bin/sh
# triage.sh LOG...: summarize sysfuzz logs: Go panics, unknown "W" lines,
# and calls workers were stuck in, minus the known/legitimate ones
# (stop signals to self, rt_sigsuspend, pause, futex LOCK_PI, fallocate).
for f in "$@"; do
	grep -a -l 'panic:\|fatal error:\|sandbox died\|SIGSEGV: segmentation' "$f" >/dev/null && echo "== $f: PANIC/FATAL"
done
echo "== stuck calls (nr: count)"
cat "$@" | grep -a -- '= -9999$' | awk '{
	nr=$3; sub("nr=","",nr); sig=$5
	if ((nr==62||nr==200||nr==129) && (sig=="13"||sig=="14"||sig=="15"||sig=="16")) next
	if ((nr==234||nr==297) && ($6=="13"||$6=="14"||$6=="15"||$6=="16")) next
	if (nr==130||nr==34||nr==285) next
	print nr}' | sort -n | uniq -c | sort -rn
