#!/bin/sh
set -e
echo first >> /order
