// kainjow_bench: renders TEMPLATE with DATA.json using kainjow mustache (C++,
// Debian libkainjow-mustache-dev) for at least SECONDS, HTML escaping off, and
// prints "renders seconds bytes-per-render".  JSON is read with jansson and
// converted once to kainjow's data (numbers become strings, as kainjow has none).
#include <kainjow/mustache.hpp>
#include <jansson.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

using kainjow::mustache::data;
using kainjow::mustache::mustache;

static data convert(json_t *v)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		data d{data::type::object};
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
			d.set(k, convert(x));
		return d;
	}
	case JSON_ARRAY: {
		data l{data::type::list};
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			l.push_back(convert(x));
		return l;
	}
	case JSON_STRING:
		return data{std::string(json_string_value(v), json_string_length(v))};
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		return data{std::string(num)};
	case JSON_REAL:
		snprintf(num, sizeof num, "%.17g", json_real_value(v));
		return data{std::string(num)};
	case JSON_TRUE:
		return data{true};
	case JSON_FALSE:
		return data{false};
	default:
		return data{false};
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		std::cerr << "usage: kainjow_bench TEMPLATE DATA.json [SECONDS] [OUT]\n";
		return 2;
	}
	std::ifstream tf(argv[1]);
	std::stringstream ts;
	ts << tf.rdbuf();
	json_error_t err;
	json_t *root = json_load_file(argv[2], 0, &err);
	if (!root) {
		std::cerr << argv[2] << ": " << err.text << "\n";
		return 1;
	}
	data d = convert(root);
	json_decref(root);
	double secs = argc > 3 ? atof(argv[3]) : 3.0;
	mustache tmpl{ts.str()};
	if (!tmpl.is_valid()) {
		std::cerr << tmpl.error_message() << "\n";
		return 1;
	}
	tmpl.set_custom_escape([](const std::string &s) { return s; });
	std::string out = tmpl.render(d);  // warm-up
	long n = 0;
	double el = 0;
	auto t0 = std::chrono::steady_clock::now();
	while (el < secs || n < 3) {
		out = tmpl.render(d);
		n++;
		el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	}
	if (argc > 4) {
		std::ofstream of(argv[4]);
		of << out;
	}
	printf("%ld %.6f %zu\n", n, el, out.size());
	return 0;
}
