// SPDX-License-Identifier: AGPL-3.0-or-later
// Independent signature check: PDFBox extracts each signature's byte range and /Contents,
// BouncyCastle verifies the CMS over exactly those bytes. Prints one line per signature,
// "VALID <field> <subfilter> <signer>" or "INVALID <field> <reason>", and exits 0 only when every
// signature of every file is valid and covers a byte range that starts at 0.
import java.io.File;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.Collection;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class SignatureCheck {
    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        boolean allValid = true;
        for (String path : args) {
            File file = new File(path);
            byte[] bytes = java.nio.file.Files.readAllBytes(file.toPath());
            try (PDDocument document = PDDocument.load(file)) {
                for (PDSignatureField signatureField : document.getSignatureFields()) {
                    PDSignature signature = signatureField.getSignature();
                    if (signature == null) continue;  // an empty ready-to-sign field
                    String field = signatureField.getPartialName();
                    try {
                        int[] range = signature.getByteRange();
                        if (range.length != 4 || range[0] != 0) throw new IllegalStateException("byte range does not start at 0");
                        byte[] signed = signature.getSignedContent(bytes);
                        CMSSignedData cms = new CMSSignedData(new CMSProcessableByteArray(signed), signature.getContents(bytes));
                        Collection<SignerInformation> signers = cms.getSignerInfos().getSigners();
                        if (signers.size() != 1) throw new IllegalStateException(signers.size() + " signers");
                        SignerInformation signer = signers.iterator().next();
                        @SuppressWarnings("unchecked")
                        Collection<X509CertificateHolder> matches = cms.getCertificates().getMatches(signer.getSID());
                        if (matches.isEmpty()) throw new IllegalStateException("signer certificate missing");
                        X509Certificate certificate = new JcaX509CertificateConverter().setProvider("BC")
                            .getCertificate(matches.iterator().next());
                        boolean ok = signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(certificate));
                        if (!ok) throw new IllegalStateException("signature does not verify");
                        System.out.println("VALID " + field + " " + signature.getSubFilter() + " " + certificate.getSubjectX500Principal().getName());
                    } catch (Exception e) {
                        allValid = false;
                        System.out.println("INVALID " + field + " " + e.getMessage());
                    }
                }
            }
        }
        System.exit(allValid ? 0 : 1);
    }
}
