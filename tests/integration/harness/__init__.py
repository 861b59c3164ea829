"""Integration-test harness for socksify.

netns      three network namespaces (client, proxy, target) wired with veth pairs
servers    danted, microsocks and the target servers, started inside a namespace
socks_test_server  our own SOCKS5 server for exact bytes and fault injection
users      a throw-away system user for danted's username method
launcher   locating the socksify launcher and building its command line
testcase   the unittest base class that ties these together
"""
