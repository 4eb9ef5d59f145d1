#!/bin/sh
echo "$GREETING" > /extra
