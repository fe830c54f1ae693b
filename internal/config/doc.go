// Package config holds the configuration of each tillsync process: one plain
// struct per process, filled from defaults, then a YAML file, then
// environment variables, then checked by Validate with messages that name the
// field and the fix.
//
// It must not start anything or open connections.
package config
