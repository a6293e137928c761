/* reboot restart|poweroff: a child of the sandbox's init calls reboot(2);
 * init waits for children and never exits by itself. */
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned cmd = argc > 1 && strcmp(argv[1], "poweroff") == 0 ? 0x4321FEDC : 0x01234567;
	pid_t pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		syscall(SYS_reboot, 0xfee1dead, 672274793, cmd, NULL);
		_exit(4);
	}
	for (;;) {
		int st;
		if (waitpid(-1, &st, 0) == pid)
			return 10;
	}
}
