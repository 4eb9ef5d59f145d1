#!/usr/bin/perl
# echo-server.pl PORT [ADDRESS] - a TCP echo server for the end-to-end tests
# and the benchmarks: each connection gets back what it sends; when the client
# closes (or half-closes) its side, the server closes the connection after the
# last echo. One process, a select loop, Listen 4096: 1,000 connections at
# once are fine (busybox httpd's backlog of 9 and nc -ll are too slow).
# ADDRESS defaults to 0.0.0.0.
#
# Core perl only (IO::Socket::INET, IO::Select), so it runs in a dev container
# with the image's perl (copy it in: docker exec -i CID sh -c 'cat > F' <
# echo-server.pl), or in a container's network namespace with this machine's
# (nsenter -t PID -n perl echo-server.pl PORT) when the image has no perl.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;

my ($port, $addr) = @ARGV;
defined $port or die "usage: echo-server.pl PORT [ADDRESS]\n";
$addr //= "0.0.0.0";
$SIG{PIPE} = 'IGNORE'; # a client gone mid-echo is dropped, not fatal

my $l = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port,
	Listen => 4096, ReuseAddr => 1) or die "echo-server.pl: listen on $addr:$port: $!\n";
$l->blocking(0); # a connection reset before accept must not block the loop
my $s = IO::Select->new($l);
while (1) {
	for my $h ($s->can_read) {
		if ($h == $l) {
			while (my $c = $l->accept) { $c->blocking(1); $s->add($c) }
			next;
		}
		my $n = sysread($h, my $buf, 65536);
		my $off = 0;
		while ($n && $off < $n) {
			my $w = syswrite($h, $buf, $n - $off, $off) or last;
			$off += $w;
		}
		if (!$n || $off < $n) { $s->remove($h); close $h }
	}
}
