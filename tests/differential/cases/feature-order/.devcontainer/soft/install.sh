#!/bin/sh
set -e
echo soft >> /order
