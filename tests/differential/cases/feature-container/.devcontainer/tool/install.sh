#!/bin/sh
set -e
mkdir -p /opt/tool/bin
printf "#!/bin/sh\necho entered > /tmp/entered\nexec \"\$@\"\n" > /opt/tool/entry.sh
chmod +x /opt/tool/entry.sh
echo "PATH at install: $PATH" > /opt/tool/install-env
