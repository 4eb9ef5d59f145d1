#!/bin/sh
set -e
echo mid >> /order
