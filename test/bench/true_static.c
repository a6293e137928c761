/* true_static: a statically linked /bin/true, for start-up benchmarks that
 * need no dynamic loader. */
int main(void)
{
	return 0;
}
