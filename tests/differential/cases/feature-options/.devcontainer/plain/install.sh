#!/bin/sh
set -e
echo "plain $VERSION" > /plain.txt
