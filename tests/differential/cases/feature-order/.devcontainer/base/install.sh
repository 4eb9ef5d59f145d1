#!/bin/sh
set -e
echo "base $LEVEL" >> /order
