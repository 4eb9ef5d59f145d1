#!/bin/sh
set -e
echo "$_REMOTE_USER $_CONTAINER_USER" > /users.txt
