#!/usr/bin/perl
# xfer-server.pl PORT ADDRESS - the benchmarks' transfer server (bench/forward.sh,
# bench/link.sh), run in the dev container with the image's perl (copy it in:
# docker exec -i CID sh -c 'cat > F' < xfer-server.pl). One process per
# connection: "GET N\n" -> N zero bytes written from a 1 MiB buffer, then EOF;
# "PUT N\n" + bytes + EOF -> the count of bytes it read.
use strict; use IO::Socket::INET;
$SIG{CHLD} = 'IGNORE';
my $l = IO::Socket::INET->new(LocalAddr => $ARGV[1], LocalPort => $ARGV[0],
	Listen => 128, ReuseAddr => 1) or die "listen: $!";
my $zeros = "\0" x (1 << 20);
while (1) {
	my $c = $l->accept or next;
	my $pid = fork;
	if (!defined $pid || $pid) { close $c; next }
	close $l;
	my $in = "";
	while (index($in, "\n") < 0) { sysread($c, $in, 4096, length $in) or exit 0 }
	my ($cmd, $n) = $in =~ /^(GET|PUT) (\d+)\n/ or exit 1;
	if ($cmd eq "GET") {
		while ($n > 0) {
			my $w = syswrite($c, $zeros, $n < length $zeros ? $n : length $zeros);
			defined $w or exit 1;
			$n -= $w;
		}
	} else {
		my $got = length($in) - index($in, "\n") - 1;
		my $buf;
		while (my $r = sysread($c, $buf, 1 << 20)) { $got += $r }
		syswrite($c, "$got\n");
	}
	close $c;
	exit 0;
}
