import subprocess

r = subprocess.run(["echo", "hi"], capture_output=True, text=True)
print(repr(r.stdout), r.returncode)
