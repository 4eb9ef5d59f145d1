#!/bin/sh
set -e
echo "$(id -un) remote=$_REMOTE_USER $_REMOTE_USER_HOME container=$_CONTAINER_USER $_CONTAINER_USER_HOME" > /who.txt
