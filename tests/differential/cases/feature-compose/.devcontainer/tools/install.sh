#!/bin/sh
set -e
echo "tools $FLAVOUR $LOUD" >> /feature-order
mkdir -p /opt/tools/bin
printf '#!/bin/sh\necho "entrypoint ran" > /tmp/tools-entrypoint\n' > /opt/tools/bin/tools-entrypoint
chmod +x /opt/tools/bin/tools-entrypoint
