import threading

lock = threading.Lock()
total = 0


def work(n):
    global total
    for i in range(1000):
        with lock:
            total += n


threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("total", total)
