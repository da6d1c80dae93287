/*
 * pcapcount.c - the benchmark floor: read a capture with libpcap
 * (pcap_next_ex) and count packets and bytes, nothing else.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t pkts = 0, bytes = 0, sum = 0;
	pcap_t *pc;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapcount FILE\n");
		return 2;
	}
	pc = pcap_open_offline(argv[1], err);
	if (pc == NULL) {
		fprintf(stderr, "pcapcount: %s\n", err);
		return 2;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		pkts++;
		bytes += h->caplen;
		/* touch the data once, as any reader must */
		if (h->caplen > 0)
			sum += data[h->caplen - 1];
	}
	pcap_close(pc);
	printf("%llu packets %llu bytes (%llu)\n", (unsigned long long)pkts,
	    (unsigned long long)bytes, (unsigned long long)sum);
	return rc == PCAP_ERROR ? 1 : 0;
}
