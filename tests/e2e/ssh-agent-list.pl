# ssh-agent-list.pl - `ssh-add -l` for images without OpenSSH's client (perl
# is in Debian's minbase): ask the agent at $SSH_AUTH_SOCK for its keys
# (SSH_AGENTC_REQUEST_IDENTITIES) and print each key's comment, one a line.
use strict;
use IO::Socket::UNIX;

my $path = $ENV{SSH_AUTH_SOCK} or die "no SSH_AUTH_SOCK\n";
my $s = IO::Socket::UNIX->new(Peer => $path) or die "$path: $!\n";
print $s pack("NC", 1, 11);
sub readn { my ($n) = @_; my $b = ''; while (length($b) < $n) { my $r = sysread($s, $b, $n - length($b), length($b)); die "short read\n" unless $r; } return $b; }
my $len = unpack("N", readn(4));
my $msg = readn($len);
my ($type, $n) = unpack("CN", $msg);
die "answer type $type\n" unless $type == 12;
my $off = 5;
for (1 .. $n) {
	my $bl = unpack("N", substr($msg, $off, 4)); $off += 4 + $bl;
	my $cl = unpack("N", substr($msg, $off, 4)); print substr($msg, $off + 4, $cl), "\n"; $off += 4 + $cl;
}
