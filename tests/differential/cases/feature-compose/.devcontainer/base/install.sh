#!/bin/sh
set -e
echo "base $LEVEL $_REMOTE_USER $_CONTAINER_USER $_REMOTE_USER_HOME" >> /feature-order
