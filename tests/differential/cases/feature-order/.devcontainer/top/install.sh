#!/bin/sh
set -e
echo top >> /order
