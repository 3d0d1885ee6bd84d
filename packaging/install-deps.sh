#!/usr/bin/env bash
# Installs what zkrunbook's build, tests and quick start need, from Debian's packages.
# Idempotent: does nothing when everything is already there (no apt-get update either).
#   java + zookeeper: the real ZooKeeper servers of the sandbox ensemble (tests, quick start, bench)
#   openssh-client + openssh-server: the ssh transport and its tests
#   python3-kazoo: an independent ZooKeeper client that writes throughout the rolling-restart tests
#   chromium: the timeline page checked in a real headless browser
#   prometheus (promtool), lintian, rpm (rpmbuild), systemd (systemd-analyze): the ecosystem's checkers
set -euo pipefail

command -v swift >/dev/null 2>&1 || { echo "install-deps: no Swift toolchain on PATH; install Swift 6 first" >&2; exit 1; }

needed=()
command -v java >/dev/null 2>&1 || needed+=(default-jre-headless)
[ -f /usr/share/java/zookeeper.jar ] && [ -x /usr/share/zookeeper/bin/zkServer.sh ] || needed+=(zookeeper)
[ -f /usr/share/java/slf4j-simple.jar ] || needed+=(libslf4j-java)
#   other ZooKeeper versions' servers (the version matrix): log4j for 3.4, Jetty and Jackson for the AdminServer
[ -f /usr/share/java/log4j-1.2.jar ] || needed+=(liblog4j1.2-java)
[ -f /usr/share/java/jetty9-server.jar ] || needed+=(libjetty9-java)
[ -f /usr/share/java/jackson-databind.jar ] || needed+=(libjackson2-databind-java)
#   sandbox up --tls: ZooKeeper's TLS needs the Netty connection factory (its parts, 4.1.48 on Debian 12)
[ -f /usr/share/java/netty-handler.jar ] && [ -f /usr/share/java/netty-transport-native-epoll.jar ] || needed+=(libnetty-java)
command -v tar >/dev/null 2>&1 || needed+=(tar)
[ -x /usr/bin/time ] || needed+=(time)   # the bundle benchmark reads peak RSS from it
command -v gzip >/dev/null 2>&1 || needed+=(gzip)
command -v dpkg-deb >/dev/null 2>&1 || needed+=(dpkg)     # the .deb package and its install test
command -v strip >/dev/null 2>&1 || needed+=(binutils)    # the stripped release binary
#   openssh: the rolling restart's ssh transport, tested against a real sshd on loopback
command -v ssh >/dev/null 2>&1 || needed+=(openssh-client)
command -v openssl >/dev/null 2>&1 || needed+=(openssl)   # the TLS tests' certificates and their s_server
[ -e /usr/lib/x86_64-linux-gnu/libssl.so.3 ] || [ -e /usr/lib/aarch64-linux-gnu/libssl.so.3 ] || needed+=(libssl3)   # loaded at run time for TLS
[ -x /usr/sbin/sshd ] || needed+=(openssh-server)
#   a real client as witness: writes during rolling restarts, every acknowledged write read back
/usr/bin/python3 -c 'import kazoo' >/dev/null 2>&1 || needed+=(python3-kazoo)
#   a virtualenv for ansible-core and ansible-lint from PyPI (the Ansible collection's tests)
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || needed+=(python3-venv)
#   a real browser: doctor's report.html opened headless, its DOM read and a screenshot taken
[ -x /usr/bin/chromium ] || needed+=(chromium)
#   the ecosystem's own checkers: promtool (metrics, alert rules), lintian (.deb), rpmbuild (the spec)
command -v promtool >/dev/null 2>&1 || needed+=(prometheus)
command -v lintian >/dev/null 2>&1 || needed+=(lintian)
command -v rpmbuild >/dev/null 2>&1 || needed+=(rpm)
command -v systemd-analyze >/dev/null 2>&1 || needed+=(systemd)
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || needed+=(python3-yaml)   # the CI example's jobs read from their YAML
command -v curl >/dev/null 2>&1 || needed+=(curl)
#   iptables: two servers on loopback cut off from each other (a rule per server's cgroup) in the partition test
command -v iptables >/dev/null 2>&1 || needed+=(iptables)
command -v man >/dev/null 2>&1 || needed+=(man-db)      # the man pages rendered, warnings fail the tests

if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${needed[*]}; run as root, or: sudo apt-get install -y ${needed[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${needed[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
