#!/bin/sh
# run.sh FIRST LAST CALLS: fuzz seeds FIRST..LAST (one sandbox at a time),
# logs in test/fuzz/logs/seed-N.log; prints a line per seed. If a log stops
# growing for 30 s, the Sentry (`runsc boot`) gets SIGABRT so that its
# goroutine dump lands in the log.
cd /work/main
first=$1; last=$2; calls=${3:-50000}
s=$first
while [ $s -le $last ]; do
	log=test/fuzz/logs/seed-$s.log
	start=$(date +%s)
	timeout -k 5 150 bin/runsc do test/fuzz/bin/sysfuzz $s $calls 2 </dev/null >$log 2>&1 &
	tpid=$!
	lastsize=-1; still=0; abrt=""
	while kill -0 $tpid 2>/dev/null; do
		sleep 5
		size=$(stat -c %s $log)
		if [ "$size" = "$lastsize" ]; then still=$((still+5)); else still=0; lastsize=$size; fi
		if [ $still -ge 30 ] && [ -z "$abrt" ]; then
			do_pid=$(pgrep -P $tpid | head -1)
			boot=$(pgrep -P "$do_pid" -f ' boot ' | head -1)
			[ -n "$boot" ] && kill -ABRT $boot && abrt=" SENTRY-STUCK(abrt $boot)"
		fi
	done
	wait $tpid
	rc=$?
	end=$(date +%s)
	flags="$abrt"
	grep -a -q 'panic:\|fatal error:\|sandbox died' $log && flags="$flags PANIC?"
	grep -a -q 'made no progress' $log && flags="$flags hang($(grep -a -c 'made no progress' $log))"
	echo "seed $s rc=$rc $((end-start))s $(grep -a 'sysfuzz: seed' $log | sed 's/.*: seed [0-9]*: //')$flags"
	s=$((s+1))
done
