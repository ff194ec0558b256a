#!/bin/sh
# ir lab web service. Everything after "planted" simulates what an attacker left behind; none of it is
# harmful: the "miner" only sleeps and the "backdoor" only echoes what it is sent.

# planted: a dropped file, run from a hidden folder
mkdir -p /tmp/.x
cat > /tmp/.x/miner.sh <<'MINER'
#!/bin/sh
# ir lab: stands in for a crypto-miner; it only sleeps
while :; do sleep 5; done
MINER
chmod 755 /tmp/.x/miner.sh
/tmp/.x/miner.sh &

# planted: an unexpected listener (backdoor) on port 4444
nc -ll -p 4444 -e cat &

exec httpd -f -p 80 -h /www
