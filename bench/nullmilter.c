/* nullmilter — the do-nothing libmilter filter of the relay bench (make
 * bench-relay, issue #5): the floor of the milter protocol that tonegate is
 * compared against.
 *
 *     nullmilter inet:PORT@127.0.0.1
 *
 * It negotiates exactly what tonegate's cb_negotiate (src/milter.c) asks
 * for — actions ADDHDRS|QUARANTINE|CHGBODY; steps NOCONNECT, NOHELO,
 * NOUNKNOWN, NR_RCPT, NR_HDR, NR_EOH, NR_BODY — and registers the same callbacks, so
 * the MTA sends it the envelope, every header and the whole body just as it
 * does to tonegate; it looks at none of it and answers CONTINUE at the end
 * of the message (the mail is accepted unchanged). SIGTERM, SIGINT and
 * SIGHUP stop it cleanly (libmilter's signal thread ends smfi_main). */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn {
	unsigned long steps;  /* negotiated protocol steps */
};

/* A reply for a step whose answer was negotiated away. */
static sfsistat cont(SMFICTX *ctx, unsigned long nr)
{
	const struct conn *c = smfi_getpriv(ctx);
	return c && (c->steps & nr) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
			     unsigned long f3, unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return SMFIS_REJECT;
	smfi_setpriv(ctx, c);
	*pf0 = (SMFIF_ADDHDRS | SMFIF_QUARANTINE | SMFIF_CHGBODY) & f0;
	unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NR_RCPT |
			     SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
	c->steps = want & f1;
	*pf1 = c->steps;
	*pf2 = *pf3 = 0;
	(void)f2;
	(void)f3;
	return SMFIS_CONTINUE;
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return cont(ctx, SMFIP_NR_RCPT);
}

static sfsistat nm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return cont(ctx, SMFIP_NR_HDR);
}

static sfsistat nm_eoh(SMFICTX *ctx)
{
	return cont(ctx, SMFIP_NR_EOH);
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)chunk;
	(void)len;
	return cont(ctx, SMFIP_NR_BODY);
}

static sfsistat nm_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strncmp(argv[1], "inet:", 5) != 0 && strncmp(argv[1], "unix:", 5) != 0)) {
		fprintf(stderr, "usage: nullmilter inet:PORT@127.0.0.1 | unix:/PATH\n");
		return 2;
	}
	static struct smfiDesc desc = {
		.xxfi_name = "nullmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE | SMFIF_CHGBODY,
		.xxfi_envfrom = nm_envfrom,
		.xxfi_envrcpt = nm_envrcpt,
		.xxfi_header = nm_header,
		.xxfi_eoh = nm_eoh,
		.xxfi_body = nm_body,
		.xxfi_eom = nm_eom,
		.xxfi_abort = nm_abort,
		.xxfi_close = nm_close,
		.xxfi_data = nm_data,
		.xxfi_negotiate = nm_negotiate,
	};
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_settimeout(30) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot set up libmilter on %s\n", argv[1]);
		return 1;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot open %s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "nullmilter: serving on %s\n", argv[1]);
	int rc = smfi_main();
	fprintf(stderr, "nullmilter: stopping\n");
	return rc == MI_SUCCESS ? 0 : 1;
}
