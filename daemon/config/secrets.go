package config

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Redacted is what Config.Redacted shows instead of a secret.
const Redacted = "***"

// secretDir is where relative secret file names are resolved:
// $CREDENTIALS_DIRECTORY (systemd LoadCredential=) when set, else the
// configuration file's directory ("" = the working directory).
func secretDir(configDir string, env map[string]string) string {
	if d := env["CREDENTIALS_DIRECTORY"]; d != "" {
		return d
	}
	return configDir
}

// readSecrets reads every *_file key into its secret field and replaces
// the file name by the path it was read from.
func (c *Config) readSecrets(dir string) []error {
	var errs []error
	if c.API.AppTokensFile != "" {
		c.API.AppTokensFile = resolve(dir, c.API.AppTokensFile)
		toks, err := readTokens(c.API.AppTokensFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("api.app_tokens_file: %w", err))
		}
		c.API.AppTokens = append(c.API.AppTokens, toks...)
	}
	for i := range c.Mailboxes {
		im := c.Mailboxes[i].IMAP
		if im == nil {
			continue
		}
		key := fmt.Sprintf("mailboxes[%d].imap", i)
		errs = appendErr(errs, readSecret(dir, key+".password", &im.Password, &im.PasswordFile))
		if o := im.OAuth; o != nil {
			errs = appendErr(errs, readSecret(dir, key+".oauth.client_secret", &o.ClientSecret, &o.ClientSecretFile))
			errs = appendErr(errs, readSecret(dir, key+".oauth.refresh_token", &o.RefreshToken, &o.RefreshTokenFile))
		}
	}
	return errs
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
}

// readSecret fills *secret from *file (key + "_file") when that is set.
func readSecret(dir, key string, secret, file *string) error {
	if *file == "" {
		return nil
	}
	if *secret != "" {
		return fmt.Errorf("%s and %s_file: set only one of them", key, key)
	}
	*file = resolve(dir, *file)
	data, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("%s_file: %w", key, err)
	}
	// Editors and `echo` add a final newline; it is never part of a secret.
	*secret = strings.TrimRight(string(data), "\r\n")
	if *secret == "" {
		return fmt.Errorf("%s_file: %s is empty", key, *file)
	}
	return nil
}

// readTokens reads one token per line; blank lines and lines starting with
// # are skipped.
func readTokens(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var toks []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		toks = append(toks, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("%s holds no token", path)
	}
	return toks, nil
}

func resolve(dir, name string) string {
	if filepath.IsAbs(name) || dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}

// Redacted returns a deep copy of c with every secret replaced by "***",
// for printing (check-config) and logging.
func (c *Config) Redacted() *Config {
	r := c.clone()
	for i := range r.API.AppTokens {
		r.API.AppTokens[i] = Redacted
	}
	hide := func(s *string) {
		if *s != "" {
			*s = Redacted
		}
	}
	for i := range r.Mailboxes {
		if im := r.Mailboxes[i].IMAP; im != nil {
			hide(&im.Password)
			if im.OAuth != nil {
				hide(&im.OAuth.ClientSecret)
				hide(&im.OAuth.RefreshToken)
			}
		}
	}
	return r
}

// clone returns a deep copy of c.
func (c *Config) clone() *Config {
	r := *c
	r.API.AppTokens = slices.Clone(c.API.AppTokens)
	r.FreeMailDomains = slices.Clone(c.FreeMailDomains)
	r.Companies = maps.Clone(c.Companies)
	if c.Names != nil {
		r.Names = make(map[string]map[string]string, len(c.Names))
		for k, tr := range c.Names {
			r.Names[k] = maps.Clone(tr)
		}
	}
	r.Mailboxes = slices.Clone(c.Mailboxes)
	for i := range r.Mailboxes {
		mb := &r.Mailboxes[i]
		mb.Owners = slices.Clone(mb.Owners)
		mb.Rules = slices.Clone(mb.Rules)
		if mb.IMAP != nil {
			im := *mb.IMAP
			if im.OAuth != nil {
				o := *im.OAuth
				o.Scopes = slices.Clone(o.Scopes)
				im.OAuth = &o
			}
			mb.IMAP = &im
		}
	}
	return &r
}
