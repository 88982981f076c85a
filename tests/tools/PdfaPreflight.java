// SPDX-License-Identifier: AGPL-3.0-or-later
// Validates PDFs with Apache PDFBox Preflight (PDF/A-1b, the only PDF/A validator Debian ships).
// Prints "VALID <file>" or "INVALID <file>" followed by one "  <code> <details>" line per error;
// exits 0 only when every file is valid.
import java.io.File;
import org.apache.pdfbox.preflight.PreflightDocument;
import org.apache.pdfbox.preflight.ValidationResult;
import org.apache.pdfbox.preflight.ValidationResult.ValidationError;
import org.apache.pdfbox.preflight.parser.PreflightParser;

public class PdfaPreflight {
    public static void main(String[] args) throws Exception {
        boolean allValid = true;
        for (String path : args) {
            ValidationResult result;
            PreflightParser parser = new PreflightParser(new File(path));
            try {
                parser.parse();
                try (PreflightDocument document = parser.getPreflightDocument()) {
                    document.validate();
                    result = document.getResult();
                }
            } catch (org.apache.pdfbox.preflight.exception.SyntaxValidationException e) {
                result = e.getResult();
            }
            System.out.println((result.isValid() ? "VALID " : "INVALID ") + path);
            for (ValidationError error : result.getErrorsList()) {
                System.out.println("  " + error.getErrorCode() + " " + error.getDetails());
            }
            allValid &= result.isValid();
        }
        System.exit(allValid ? 0 : 1);
    }
}
