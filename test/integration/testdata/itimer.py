import signal
import time

fired = []


def handler(signum, frame):
    fired.append(signum)


signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.05)
deadline = time.monotonic() + 10
while not fired and time.monotonic() < deadline:
    time.sleep(0.01)
print("fired", fired == [signal.SIGALRM])
