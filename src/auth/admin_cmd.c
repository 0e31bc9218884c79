/*
 * admin_cmd.c - `emporium-admin create-admin --email E`: the first admin.
 *
 * The password never travels on the command line (it would show in ps
 * and the shell history): it is read from standard input when that is not
 * a terminal (`printf '%s\n' "$PW" | emporium-admin create-admin --email E`,
 * first line, newline stripped), and otherwise prompted for twice with
 * echo off. It must pass the same policy as a registration.
 *
 * When the address already has an account, that account is made an
 * admin: enabled, e-mail verified, and given the new password, and all
 * its sessions are revoked (it is a password change). That makes the
 * command the recovery path for a locked-out operator, and safe to re-run.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/auth_routes.h"
#include "core/log.h"
#include "store/store.h"

#define ADMIN_PW_BUF (AUTH_PASSWORD_MAX * 4 + 2)

/* Reads one line from f into buf, without its newline; false on EOF or
 * a line too long for buf. */
static bool admin_line_read(FILE *f, char *buf, size_t size)
{
	size_t len;

	if (!fgets(buf, (int)size, f))
		return false;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(f))
		return false; /* longer than the buffer */
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return true;
}

/* Prompts on the terminal with echo off. */
static bool admin_password_prompt(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	bool ok, restore;

	fputs(prompt, stderr);
	fflush(stderr);
	restore = tcgetattr(STDIN_FILENO, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
			restore = false;
	}
	ok = admin_line_read(stdin, buf, size);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return ok;
}

static bool admin_password_read(char *pw, size_t size)
{
	char again[ADMIN_PW_BUF];
	bool ok;

	if (!isatty(STDIN_FILENO)) {
		if (!admin_line_read(stdin, pw, size)) {
			fprintf(stderr, "create-admin: no password on standard input (one line)\n");
			return false;
		}
		return true;
	}
	if (!admin_password_prompt("New admin password: ", pw, size) ||
	    !admin_password_prompt("Repeat it: ", again, sizeof(again))) {
		fprintf(stderr, "create-admin: no password read\n");
		return false;
	}
	ok = strcmp(pw, again) == 0;
	sodium_memzero(again, sizeof(again));
	if (!ok)
		fprintf(stderr, "create-admin: the passwords differ\n");
	return ok;
}

static void admin_cmd_usage(void)
{
	fprintf(stderr, "usage: emporium-admin create-admin --email EMAIL\n"
			"The password is read from standard input (one line) when it is not a\n"
			"terminal, and prompted for otherwise; never from the command line.\n");
}

int auth_cmd_create_admin(const struct em_config *cfg, int argc, char **argv)
{
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;
	mongoc_collection_t *coll = NULL;
	bson_t *filter = NULL, *update = NULL, *opts = NULL, reply = BSON_INITIALIZER;
	bson_error_t berr;
	bson_iter_t it;
	char email[AUTH_EMAIL_MAX + 1], pw[ADMIN_PW_BUF], hash[crypto_pwhash_STRBYTES];
	const char *raw = NULL;
	bson_oid_t new_id, uid;
	bool opened = false, found = false;
	int rc = 1;
	int64_t now = em_now_ms();
	bson_t user = BSON_INITIALIZER;

	pw[0] = '\0';
	hash[0] = '\0';
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
			raw = argv[++i];
		else if (strncmp(argv[i], "--email=", 8) == 0)
			raw = argv[i] + 8;
		else {
			admin_cmd_usage();
			return 2;
		}
	}
	if (!raw) {
		admin_cmd_usage();
		return 2;
	}
	if (!auth_sodium_ready()) {
		fprintf(stderr, "create-admin: libsodium cannot be initialised\n");
		return 1;
	}
	if (!auth_email_normalize(raw, email, sizeof(email), &err)) {
		fprintf(stderr, "create-admin: %s\n", err.message);
		return 2;
	}
	if (!admin_password_read(pw, sizeof(pw)))
		goto done;
	if (!auth_password_check(pw, &err) ||
	    !auth_password_hash(cfg, pw, hash, sizeof(hash), &err)) {
		fprintf(stderr, "create-admin: %s\n", err.message);
		goto done;
	}
	if (!store_open(&st, cfg, "emporium-admin", &err)) {
		fprintf(stderr, "create-admin: %s\n", err.message);
		goto done;
	}
	opened = true;
	/* One upsert: a new admin, or the existing account made one. */
	bson_oid_init(&new_id, NULL);
	filter = BCON_NEW("email", BCON_UTF8(email));
	update = BCON_NEW("$set", "{", "role", BCON_UTF8("admin"), "email_verified", BCON_BOOL(true),
			  "disabled", BCON_BOOL(false), "password_hash", BCON_UTF8(hash),
			  "updated_at", BCON_DATE_TIME(now), "}",
			  "$setOnInsert", "{", "_id", BCON_OID(&new_id), "name",
			  BCON_UTF8("Administrator"), "phone", BCON_NULL, "created_at",
			  BCON_DATE_TIME(now), "}");
	opts = BCON_NEW("upsert", BCON_BOOL(true));
	coll = store_collection(&st, "users");
	if (!mongoc_collection_update_one(coll, filter, update, opts, &reply, &berr)) {
		fprintf(stderr, "create-admin: %s\n", berr.message);
		goto done;
	}
	found = !(bson_iter_init_find(&it, &reply, "upsertedCount") && bson_iter_as_int64(&it) == 1);
	if (found) {
		bool f = false;

		if (!auth_user_find_by_email(&st, email, &user, &f, &err) || !f ||
		    !auth_doc_oid(&user, "_id", &uid) ||
		    !auth_user_sessions_revoke(&st, NULL, &uid, &err)) {
			fprintf(stderr, "create-admin: %s\n",
				err.message[0] ? err.message : "cannot load the account");
			goto done;
		}
	}
	printf("%s: %s is an admin\n", found ? "updated" : "created", email);
	em_info("create-admin: %s %s", found ? "promoted" : "created", email);
	rc = 0;
done:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(hash, sizeof(hash));
	bson_destroy(&user);
	bson_destroy(&reply);
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	if (update)
		bson_destroy(update);
	if (opts)
		bson_destroy(opts);
	if (opened)
		store_close(&st);
	return rc;
}
