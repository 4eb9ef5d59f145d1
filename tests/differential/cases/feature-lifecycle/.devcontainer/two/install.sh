#!/bin/sh
set -e
true
