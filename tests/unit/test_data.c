/* test_data: base64, etcd prefix ends, safe strings, sorting and the
 * shapes of Consul answers. */
#include "tests/unit/check.h"

#include <jansson.h>

#include "watcher/consul.h"
#include "watcher/data.h"
#include "watcher/etcd.h"
#include "watcher/watch_int.h"

static char *dump(const json_t *j)
{
	static char *last;

	free(last);
	last = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	return last;
}

static void test_b64(void)
{
	struct buf b = BUF_INIT;

	check(b64_encode(&b, "config/maxconn", 14) == 0);
	check_str(buf_cstr(&b), "Y29uZmlnL21heGNvbm4=");
	buf_reset(&b);
	check(b64_decode(&b, "Y29uZmlnL21heGNvbm4=", 20) == 0);
	check_str(buf_cstr(&b), "config/maxconn");
	buf_reset(&b);
	check(b64_decode(&b, "YQ", 2) == 0);
	check_str(buf_cstr(&b), "a");
	buf_reset(&b);
	check(b64_decode(&b, "Y*==", 4) < 0);
	buf_free(&b);
}

static void test_prefix_end(void)
{
	struct buf b = BUF_INIT;

	check(etcd_prefix_end(&b, "/a/", 3) == 0);
	check_str(buf_cstr(&b), "/a0");
	buf_reset(&b);
	check(etcd_prefix_end(&b, "a\xff", 2) == 0);
	check_str(buf_cstr(&b), "b");
	buf_reset(&b);
	check(etcd_prefix_end(&b, "", 0) == 0);
	check_int(b.len, 1);
	check_int(b.data[0], 0);
	buf_free(&b);
}

static void test_strings(void)
{
	json_t *s = data_string("a\xff" "b\0c", 5);

	check_str(json_string_value(s), "a?b?c");
	json_decref(s);
	s = data_string("caf\xc3\xa9", 5);
	check_str(json_string_value(s), "caf\xc3\xa9");
	json_decref(s);
}

static void test_sort(void)
{
	json_t *a = json_loads("[{\"node\":\"b\",\"id\":\"1\"},{\"node\":\"a\",\"id\":\"2\"},"
			       "{\"node\":\"a\",\"id\":\"1\"}]", 0, NULL);

	data_sort_by(a, "node", "id");
	check_str(dump(a), "[{\"id\":\"1\",\"node\":\"a\"},{\"id\":\"2\",\"node\":\"a\"},"
		  "{\"id\":\"1\",\"node\":\"b\"}]");
	json_decref(a);
}

static void test_consul_shapes(void)
{
	struct watch w;
	json_t *in, *out;

	memset(&w, 0, sizeof w);
	w.n.kind = WK_SERVICE;
	in = json_loads("[{\"Node\":{\"Node\":\"n2\",\"Address\":\"10.0.0.2\",\"Datacenter\":\"dc1\","
			"\"ID\":\"abcd\",\"Meta\":{\"rack\":\"r1\"},\"TaggedAddresses\":{\"wan\":\"1.2.3.4\"}},"
			"\"Service\":{\"ID\":\"web2\",\"Service\":\"web\",\"Tags\":[\"z\",\"a\"],"
			"\"Address\":\"\",\"Port\":81,\"Meta\":{\"v\":\"1\"},"
			"\"TaggedAddresses\":{\"lan\":{\"Address\":\"10.1.0.2\",\"Port\":82}},"
			"\"Weights\":{\"Passing\":3,\"Warning\":0}},"
			"\"Checks\":[{\"Status\":\"passing\",\"CheckID\":\"serfHealth\",\"Name\":\"Serf\","
			"\"Output\":\"ok\"},{\"Status\":\"warning\"}]},"
			"{\"Node\":{\"Node\":\"n1\",\"Address\":\"10.0.0.1\",\"Datacenter\":\"dc1\"},"
			"\"Service\":{\"ID\":\"web1\",\"Service\":\"web\",\"Tags\":null,"
			"\"Address\":\"127.0.0.1\",\"Port\":80,\"Meta\":null},\"Checks\":[]}]", 0, NULL);
	out = consul_shape(&w, in, 200);
	check_str(dump(out),
		  "[{\"address\":\"127.0.0.1\",\"checks\":[],\"datacenter\":\"dc1\",\"id\":\"web1\",\"meta\":{},"
		  "\"name\":\"web\",\"node\":\"n1\",\"node_address\":\"10.0.0.1\",\"node_id\":\"\","
		  "\"node_meta\":{},\"node_tagged_addresses\":{},\"port\":80,"
		  "\"status\":\"passing\",\"tagged_addresses\":{},\"tags\":[],"
		  "\"weights\":{\"passing\":1,\"warning\":1}},"
		  "{\"address\":\"10.0.0.2\",\"checks\":[{\"id\":\"\",\"name\":\"\",\"output\":\"\","
		  "\"status\":\"warning\"},{\"id\":\"serfHealth\",\"name\":\"Serf\","
		  "\"output\":\"ok\",\"status\":\"passing\"}],\"datacenter\":\"dc1\",\"id\":\"web2\",\"meta\":{\"v\":\"1\"},"
		  "\"name\":\"web\",\"node\":\"n2\",\"node_address\":\"10.0.0.2\",\"node_id\":\"abcd\","
		  "\"node_meta\":{\"rack\":\"r1\"},\"node_tagged_addresses\":{\"wan\":\"1.2.3.4\"},\"port\":81,"
		  "\"status\":\"warning\",\"tagged_addresses\":{\"lan\":{\"address\":\"10.1.0.2\",\"port\":82}},"
		  "\"tags\":[\"a\",\"z\"],\"weights\":{\"passing\":3,\"warning\":0}}]");
	json_decref(out);
	json_decref(in);

	w.n.kind = WK_SERVICES;
	in = json_loads("{\"web\":[\"b\",\"a\"],\"consul\":[]}", 0, NULL);
	out = consul_shape(&w, in, 200);
	check_str(dump(out), "[{\"name\":\"consul\",\"tags\":[]},{\"name\":\"web\",\"tags\":[\"a\",\"b\"]}]");
	json_decref(out);
	w.n.tag = (char *)"b";    /* services~tag=b */
	out = consul_shape(&w, in, 200);
	check_str(dump(out), "[{\"name\":\"web\",\"tags\":[\"a\",\"b\"]}]");
	json_decref(out);
	w.n.tag = NULL;
	json_decref(in);

	w.n.kind = WK_KEY;
	out = consul_shape(&w, NULL, 404);
	check(json_is_null(out));
	json_decref(out);
	in = json_loads("[{\"Key\":\"config/maxconn\",\"Value\":\"MTAwMA==\"}]", 0, NULL);
	out = consul_shape(&w, in, 200);
	check_str(json_string_value(out), "1000");
	json_decref(out);
	json_decref(in);

	w.n.kind = WK_TREE;
	w.n.arg = (char *)"c";
	out = consul_shape(&w, NULL, 404);
	check_str(dump(out), "[]");
	json_decref(out);
	in = json_loads("[{\"Key\":\"c/b\",\"Value\":\"Mg==\"},{\"Key\":\"c/\",\"Value\":null},"
			"{\"Key\":\"c/a\",\"Value\":null}]", 0, NULL);
	out = consul_shape(&w, in, 200);
	check_str(dump(out), "[{\"key\":\"a\",\"path\":\"c/a\",\"value\":\"\"},"
		  "{\"key\":\"b\",\"path\":\"c/b\",\"value\":\"2\"}]");
	json_decref(out);
	json_decref(in);
	w.n.arg = (char *)"c/";
	in = json_loads("[{\"Key\":\"c/b\",\"Value\":\"Mg==\"},{\"Key\":\"c\",\"Value\":\"MQ==\"}]", 0, NULL);
	out = consul_shape(&w, in, 200);
	check_str(dump(out), "[{\"key\":\"b\",\"path\":\"c/b\",\"value\":\"2\"},"
		  "{\"key\":\"c\",\"path\":\"c\",\"value\":\"1\"}]");
	json_decref(out);
	json_decref(in);

	/* Unexpected shapes are errors, never empty data. */
	w.n.kind = WK_SERVICE;
	in = json_loads("{\"oops\":1}", 0, NULL);
	check(consul_shape(&w, in, 200) == NULL);
	json_decref(in);
	w.n.kind = WK_NODES;
	in = json_loads("[1]", 0, NULL);
	check(consul_shape(&w, in, 200) == NULL);
	json_decref(in);
}

int main(void)
{
	test_b64();
	test_prefix_end();
	test_strings();
	test_sort();
	test_consul_shapes();
	dump(NULL);
	return check_done();
}
