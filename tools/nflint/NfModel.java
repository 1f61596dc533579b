// Model dump and script rendering over the real Nextflow parser (nf-lang in a language-server jar)
// plus the Groovy it bundles. Our own driver; see /work/shared/NEXTFLOW.md Appendix B and docs/nextflow.md.
//
//   java -cp JAR:CLASSES NfModel model PATH...    JSON model of every .nf / .config under PATH
//   java -cp JAR:CLASSES NfModel render JOBS.json  evaluate process script/stub/outputs for bindings
//   java -cp JAR:CLASSES NfModel serve             the same, one JSON job list per stdin line -> one result line
//
// render jobs: [{file, process, modes: [script|stub|outputs], params: {name: groovyExpr},
//               ext: {args: groovyExpr, prefix: groovyExpr}, binding: {name: json}, task: {cpus: n}}]
// JSON values {"__path__": "x.bam"} become staged files (name/baseName/simpleName/extension), a list
// of them a blank-separated file list, as Nextflow passes them to script templates.
import java.io.File;
import java.nio.file.*;
import java.util.*;
import java.util.stream.*;
import groovy.json.JsonOutput;
import groovy.json.JsonSlurper;
import groovy.lang.Binding;
import groovy.lang.Closure;
import groovy.lang.GroovyShell;
import nextflow.config.ast.*;
import nextflow.config.control.ConfigParser;
import nextflow.script.ast.*;
import nextflow.script.control.ScriptParser;
import org.codehaus.groovy.ast.ASTNode;
import org.codehaus.groovy.ast.CodeVisitorSupport;
import org.codehaus.groovy.ast.Parameter;
import org.codehaus.groovy.ast.expr.*;
import org.codehaus.groovy.ast.stmt.*;
import org.codehaus.groovy.control.SourceUnit;

public class NfModel {

    /** A staged input file as a process script sees it. */
    public static class StagedPath {
        private final String name;
        public StagedPath(String name) { this.name = name; }
        public String getName() { return name; }
        public String getBaseName() { int i = name.lastIndexOf('.'); return i > 0 ? name.substring(0, i) : name; }
        public String getSimpleName() { int i = name.indexOf('.'); return i > 0 ? name.substring(0, i) : name; }
        public String getExtension() { int i = name.lastIndexOf('.'); return i > 0 ? name.substring(i + 1) : ""; }
        public boolean asBoolean() { return true; }
        @Override public String toString() { return name; }
    }

    /** Several files in one `path` input: rendered blank-separated, like Nextflow's BlankSeparatedList,
     *  which delegates to a List without being a Collection (Groovy formats a Collection as [a, b] in a
     *  GString whatever its toString says, so this must not extend one). */
    public static class StagedList implements Iterable<Object> {
        final List<Object> items = new ArrayList<>();
        public void addAll(List<Object> xs) { items.addAll(xs); }
        public int size() { return items.size(); }
        public Object get(int i) { return items.get(i); }
        public Object getAt(int i) { return items.get(i); }
        public boolean asBoolean() { return !items.isEmpty(); }
        @Override public java.util.Iterator<Object> iterator() { return items.iterator(); }
        @Override public String toString() { return items.stream().map(String::valueOf).collect(Collectors.joining(" ")); }
    }

    /** Binding that resolves unknown names to their own name (for `emit: counts` in output declarations). */
    static class NameBinding extends Binding {
        NameBinding(Map<String, Object> vars) { super(vars); }
        @Override public Object getVariable(String name) {
            return getVariables().containsKey(name) ? super.getVariable(name) : name;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("model")) {
            System.out.println(JsonOutput.toJson(model(Arrays.copyOfRange(args, 1, args.length))));
        } else if (args.length == 2 && args[0].equals("render")) {
            System.out.println(JsonOutput.toJson(render(new JsonSlurper().parse(new File(args[1])))));
        } else if (args.length == 1 && args[0].equals("serve")) {
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) continue;
                System.out.println(JsonOutput.toJson(render(new JsonSlurper().parseText(line))));
                System.out.flush();
            }
        } else {
            System.err.println("usage: NfModel model PATH... | NfModel render JOBS.json | NfModel serve");
            System.exit(2);
        }
    }

    // ---------------------------------------------------------------- model

    static List<File> files(String[] paths) throws Exception {
        List<File> out = new ArrayList<>();
        for (String a : paths) {
            Path p = Path.of(a).toAbsolutePath().normalize();
            try (Stream<Path> s = Files.walk(p)) {
                s.filter(Files::isRegularFile)
                 .filter(f -> f.toString().endsWith(".nf") || f.toString().endsWith(".config"))
                 .sorted().forEach(f -> out.add(f.toFile()));
            }
        }
        return out;
    }

    static Map<String, Object> model(String[] paths) throws Exception {
        ScriptParser sp = new ScriptParser();
        ConfigParser cp = new ConfigParser();
        List<File> fs = files(paths);
        for (File f : fs) { if (f.getName().endsWith(".nf")) sp.parse(f); else cp.parse(f); }
        sp.analyze();
        cp.analyze();
        List<Object> scripts = new ArrayList<>(), configs = new ArrayList<>();
        for (SourceUnit su : sorted(sp.compiler().getSources().values())) {
            if (su.getAST() instanceof ScriptNode sn) scripts.add(script(su, sn));
        }
        for (SourceUnit su : sorted(cp.compiler().getSources().values())) {
            if (su.getAST() instanceof ConfigNode cn) {
                List<String> lines = lines(su);
                List<Object> assigns = new ArrayList<>(), includes = new ArrayList<>();
                config(lines, cn.getConfigStatements(), new ArrayList<>(), assigns, includes);
                configs.add(Map.of("file", path(su), "assigns", assigns, "includes", includes));
            }
        }
        return Map.of("scripts", scripts, "configs", configs);
    }

    static List<SourceUnit> sorted(Collection<SourceUnit> units) {
        List<SourceUnit> l = new ArrayList<>(units);
        l.sort(Comparator.comparing(NfModel::path));
        return l;
    }

    static String path(SourceUnit su) { return Path.of(su.getSource().getURI()).toString(); }

    static List<String> lines(SourceUnit su) {
        try { return Files.readAllLines(Path.of(su.getSource().getURI())); }
        catch (Exception e) { throw new RuntimeException(e); }
    }

    static Map<String, Object> script(SourceUnit su, ScriptNode sn) {
        List<String> lines = lines(su);
        List<Object> includes = new ArrayList<>(), processes = new ArrayList<>(), workflows = new ArrayList<>();
        for (IncludeNode in : sn.getIncludes()) {
            List<Object> entries = new ArrayList<>();
            for (IncludeEntryNode e : in.entries) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", e.name);
                m.put("alias", e.alias);
                entries.add(m);
            }
            includes.add(Map.of("source", in.source.getText(), "entries", entries));
        }
        for (ProcessNode pn : sn.getProcesses()) {
            if (!(pn instanceof ProcessNodeV1 p)) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.getName());
            m.put("line", p.getLineNumber());
            m.put("directives", stmts(lines, p.directives));
            m.put("inputs", decls(lines, p.inputs));
            m.put("outputs", decls(lines, p.outputs));
            m.put("type", p.type);
            m.put("script", text(lines, p.exec));
            m.put("stub", text(lines, p.stub));
            processes.add(m);
        }
        for (WorkflowNode w : sn.getWorkflows()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", w.isEntry() ? "" : w.getName());
            m.put("entry", w.isEntry());
            m.put("takes", Arrays.stream(w.getParameters()).map(Parameter::getName).collect(Collectors.toList()));
            m.put("emits", names(w.emits));
            m.put("emit_exprs", emitExprs(w.emits));
            m.put("main", text(lines, w.main));
            m.put("out_refs", outRefs(w.main, w.emits));
            m.put("calls", calls(lines, w.main));
            workflows.add(m);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", path(su));
        r.put("includes", includes);
        r.put("processes", processes);
        r.put("workflows", workflows);
        List<Object> functions = new ArrayList<>();
        for (FunctionNode fn : sn.getFunctions()) functions.add(Map.of("name", fn.getName(), "text", text(lines, fn)));
        r.put("functions", functions);
        return r;
    }

    static void config(List<String> lines, List<ConfigStatement> stmts, List<String> scope,
                       List<Object> assigns, List<Object> includes) {
        for (ConfigStatement st : stmts) {
            if (st instanceof ConfigAssignNode a) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("scope", new ArrayList<>(scope));
                m.put("names", a.names);
                m.put("value", text(lines, a.value));
                m.put("line", a.getLineNumber());
                assigns.add(m);
            } else if (st instanceof ConfigBlockNode b) {
                List<String> s = new ArrayList<>(scope);
                s.add(b.kind == null ? b.name : b.kind + ":" + b.name);
                config(lines, b.statements, s, assigns, includes);
            } else if (st instanceof ConfigIncludeNode i) {
                includes.add(Map.of("scope", new ArrayList<>(scope), "source", text(lines, i.source)));
            } else if (st instanceof ConfigApplyBlockNode ab) {
                List<String> s = new ArrayList<>(scope);
                s.add(ab.name);
                for (ConfigApplyNode an : ab.statements) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("scope", s);
                    m.put("names", List.of(an.getMethodAsString()));
                    m.put("value", text(lines, an.getArguments()));
                    m.put("line", an.getLineNumber());
                    assigns.add(m);
                }
            }
        }
    }

    /** Source text of a node from its 1-based line/column span. */
    static String text(List<String> lines, ASTNode n) {
        if (n == null || n.getLineNumber() < 1) return null;
        StringBuilder sb = new StringBuilder();
        for (int l = n.getLineNumber(); l <= n.getLastLineNumber(); l++) {
            String s = lines.get(l - 1);
            int a = (l == n.getLineNumber()) ? n.getColumnNumber() - 1 : 0;
            int b = (l == n.getLastLineNumber()) ? Math.min(s.length(), n.getLastColumnNumber() - 1) : s.length();
            sb.append(s, Math.min(a, b), b);
            if (l < n.getLastLineNumber()) sb.append('\n');
        }
        return sb.toString();
    }

    static List<String> stmts(List<String> lines, Statement s) {
        List<String> out = new ArrayList<>();
        if (s instanceof BlockStatement b) for (Statement x : b.getStatements()) out.add(text(lines, x));
        else if (s != null) out.add(text(lines, s));
        return out;
    }

    /** Input/output declarations: text, qualifier, tuple arity, first tuple item, named options. */
    static List<Object> decls(List<String> lines, Statement s) {
        List<Object> out = new ArrayList<>();
        if (!(s instanceof BlockStatement b)) return out;
        for (Statement x : b.getStatements()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("text", text(lines, x));
            if (x instanceof ExpressionStatement es && es.getExpression() instanceof MethodCallExpression mc) {
                m.put("kind", mc.getMethodAsString());
                List<String> items = new ArrayList<>();
                Map<String, String> opts = new LinkedHashMap<>();
                if (mc.getArguments() instanceof TupleExpression te) {
                    for (Expression e : te.getExpressions()) {
                        if (e instanceof MapExpression me) {
                            for (MapEntryExpression en : me.getMapEntryExpressions())
                                opts.put(en.getKeyExpression().getText(), text(lines, en.getValueExpression()));
                        } else {
                            items.add(text(lines, e));
                        }
                    }
                }
                m.put("items", items);
                m.put("options", opts);
            }
            out.add(m);
        }
        return out;
    }

    /** Names declared in an emit: block (statements there carry no positions). */
    static List<String> names(Statement s) {
        List<String> out = new ArrayList<>();
        if (!(s instanceof BlockStatement b)) return out;
        for (Statement x : b.getStatements()) {
            if (!(x instanceof ExpressionStatement es)) continue;
            Expression e = es.getExpression();
            if (e instanceof BinaryExpression be) out.add(be.getLeftExpression().getText());
            else if (e instanceof VariableExpression ve) out.add(ve.getName());
            else out.add(e.getText());
        }
        return out;
    }

    /** emit name -> Groovy text of its expression (e.g. "DNADX_CNV.out.cnv"). */
    static Map<String, String> emitExprs(Statement s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!(s instanceof BlockStatement b)) return out;
        for (Statement x : b.getStatements())
            if (x instanceof ExpressionStatement es && es.getExpression() instanceof BinaryExpression be)
                out.put(be.getLeftExpression().getText(), be.getRightExpression().getText());
        return out;
    }

    /** Every `X.out.y` reference: [X, y, line]. */
    static List<Object> outRefs(Statement... blocks) {
        List<Object> refs = new ArrayList<>();
        CodeVisitorSupport v = new CodeVisitorSupport() {
            @Override public void visitPropertyExpression(PropertyExpression pe) {
                if (pe.getObjectExpression() instanceof PropertyExpression inner
                        && "out".equals(inner.getPropertyAsString())
                        && inner.getObjectExpression() instanceof VariableExpression ve) {
                    refs.add(List.of(ve.getName(), pe.getPropertyAsString(), pe.getLineNumber()));
                }
                super.visitPropertyExpression(pe);
            }
        };
        for (Statement b : blocks) if (b != null) b.visit(v);
        return refs;
    }

    /** Every call of an upper-case name (process / workflow) in a workflow body: [name, [arg texts]]. */
    static List<Object> calls(List<String> lines, Statement block) {
        List<Object> out = new ArrayList<>();
        if (block == null) return out;
        block.visit(new CodeVisitorSupport() {
            @Override public void visitMethodCallExpression(MethodCallExpression mc) {
                String name = mc.getMethodAsString();
                if (mc.isImplicitThis() && name != null && name.equals(name.toUpperCase()) && !name.equals(name.toLowerCase())) {
                    List<String> args = new ArrayList<>();
                    if (mc.getArguments() instanceof TupleExpression te)
                        for (Expression e : te.getExpressions()) args.add(text(lines, e));
                    out.add(List.of(name, args));
                }
                super.visitMethodCallExpression(mc);
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- render

    static final String OUTPUT_PRELUDE = String.join("\n",
        "def val(x) { [kind: 'val'] }",
        "def env(x) { [kind: 'env', name: x.toString()] }",
        "def stdout() { [kind: 'stdout'] }",
        "def eval(x) { [kind: 'eval', cmd: x.toString()] }",
        "def path(Map o, x) { [kind: 'path', pattern: x.toString(), optional: o.optional ?: false, emit: o.emit?.toString(), topic: o.topic?.toString()] }",
        "def path(x) { path([:], x) }",
        "def file(Map o, x) { path(o, x) }",
        "def file(x) { path([:], x) }",
        "def tuple(Map o, Object... items) { [kind: 'tuple', items: items.toList(), optional: o.optional ?: false, emit: o.emit?.toString(), topic: o.topic?.toString()] }",
        "def tuple(Object... items) { tuple([:], items) }",
        "");

    /** Nextflow's file() as a function script sees it: a path by name (existence is not checked here). */
    static final String FILE_PRELUDE = String.join("\n",
        "def file(Map o, p) { new NfModel.StagedPath(p.toString().replaceAll('.*/', '')) }",
        "def file(p) { file([:], p) }",
        "");

    static Object toJson(Object v) {
        if (v instanceof StagedPath sp) return Map.of("__path__", sp.getName());
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (var e : m.entrySet()) out.put(String.valueOf(e.getKey()), toJson(e.getValue()));
            return out;
        }
        if (v instanceof Collection<?> c) return c.stream().map(NfModel::toJson).collect(Collectors.toList());
        if (v instanceof groovy.lang.GString g) return g.toString();
        return v;
    }

    @SuppressWarnings("unchecked")
    static List<Object> render(Object parsed) throws Exception {
        List<Map<String, Object>> jobs = (List<Map<String, Object>>) parsed;
        // parse each referenced file once with the real parser
        Map<String, ProcessNodeV1> procs = new HashMap<>();
        Map<String, List<String>> srcLines = new HashMap<>();
        ScriptParser sp = new ScriptParser();
        Set<String> seen = new HashSet<>();
        for (Map<String, Object> j : jobs) {
            String f = (String) j.get("file");
            if (f != null && seen.add(f)) sp.parse(new File(f));
        }
        sp.analyze();
        for (SourceUnit su : sp.compiler().getSources().values()) {
            if (!(su.getAST() instanceof ScriptNode sn)) continue;
            srcLines.put(path(su), lines(su));
            for (ProcessNode pn : sn.getProcesses())
                if (pn instanceof ProcessNodeV1 p) procs.put(path(su) + "#" + p.getName(), p);
        }
        List<Object> results = new ArrayList<>();
        for (Map<String, Object> j : jobs) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("id", j.get("id"));
            if (j.containsKey("call")) {   // a workflow-file function: {source, call, binding}
                try {
                    Map<String, Object> vars = binding(j, "");
                    Object v = new GroovyShell(new Binding(vars)).evaluate(FILE_PRELUDE + j.get("source") + "\n" + j.get("call"));
                    r.put("value", toJson(v));
                } catch (Throwable e) {
                    r.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                results.add(r);
                continue;
            }
            String file = Path.of((String) j.get("file")).toAbsolutePath().normalize().toString();
            ProcessNodeV1 p = procs.get(file + "#" + j.get("process"));
            if (p == null) { r.put("error", "process " + j.get("process") + " not found in " + file); results.add(r); continue; }
            List<String> lines = srcLines.get(file);
            try {
                Map<String, Object> vars = binding(j, p.getName());
                for (String mode : (List<String>) j.get("modes")) {
                    if (mode.equals("outputs")) {
                        List<Object> outs = new ArrayList<>();
                        for (String st : stmts(lines, p.outputs)) {  // evaluated like Nextflow does: named args first
                            GroovyShell sh = new GroovyShell(new NameBinding(new HashMap<>(vars)));
                            outs.add(sh.evaluate(OUTPUT_PRELUDE + st));
                        }
                        r.put("outputs", outs);
                    } else {
                        String body = text(lines, mode.equals("stub") ? p.stub : p.exec);
                        if (body == null) { r.put(mode, null); continue; }
                        body = body.replaceFirst("^\\s*(script|stub)\\s*:", "");
                        GroovyShell sh = new GroovyShell(new Binding(new HashMap<>(vars)));
                        Object out = sh.evaluate(body);
                        r.put(mode, out == null ? null : out.toString().stripIndent());
                    }
                }
            } catch (Throwable e) {
                r.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            results.add(r);
        }
        return results;
    }

    /** Variables a task script sees: params, task (cpus, process, ext.*), inputs. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> binding(Map<String, Object> job, String process) {
        Map<String, Object> params = new LinkedHashMap<>();
        Map<String, Object> base = new HashMap<>();
        base.put("projectDir", job.getOrDefault("projectDir", "."));
        base.put("moduleDir", job.getOrDefault("moduleDir", "."));
        Map<String, Object> pexpr = (Map<String, Object>) job.getOrDefault("params", Map.of());
        for (var e : pexpr.entrySet()) {   // in declaration order, each may use the ones before
            Map<String, Object> b = new HashMap<>(base);
            b.put("params", params);
            params.put(e.getKey(), new GroovyShell(new Binding(b)).evaluate("return " + e.getValue()));
        }
        Map<String, Object> vars = new HashMap<>(base);
        vars.put("params", params);
        Map<String, Object> inputs = (Map<String, Object>) job.getOrDefault("binding", Map.of());
        for (var e : inputs.entrySet()) vars.put(e.getKey(), convert(e.getValue()));
        Map<String, Object> task = new LinkedHashMap<>((Map<String, Object>) job.getOrDefault("task", Map.of()));
        task.put("process", job.getOrDefault("qualifiedName", process));
        task.putIfAbsent("cpus", 1);
        task.putIfAbsent("attempt", 1);
        Map<String, Object> ext = new LinkedHashMap<>();
        task.put("ext", ext);
        vars.put("task", task);
        Map<String, Object> eexpr = (Map<String, Object>) job.getOrDefault("ext", Map.of());
        for (var e : eexpr.entrySet()) {   // config closures are evaluated in the task's context
            Object v = new GroovyShell(new Binding(new HashMap<>(vars))).evaluate("return " + e.getValue());
            if (v instanceof Closure<?> c) {
                c.setDelegate(vars);
                c.setResolveStrategy(Closure.DELEGATE_FIRST);
                v = c.call();
            }
            ext.put(e.getKey(), v == null ? null : v.toString());
        }
        return vars;
    }

    @SuppressWarnings("unchecked")
    static Object convert(Object v) {
        if (v instanceof Map<?, ?> m) {
            if (m.containsKey("__path__")) return new StagedPath((String) m.get("__path__"));
            Map<String, Object> out = new LinkedHashMap<>();
            for (var e : ((Map<String, Object>) m).entrySet()) out.put(e.getKey(), convert(e.getValue()));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> items = new ArrayList<>();
            for (Object x : l) items.add(convert(x));
            if (!items.isEmpty() && items.stream().allMatch(x -> x instanceof StagedPath)) {
                StagedList s = new StagedList();
                s.addAll(items);
                return s;
            }
            return items;
        }
        return v;
    }
}
