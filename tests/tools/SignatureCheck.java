// SPDX-License-Identifier: AGPL-3.0-or-later
// Independent signature check: PDFBox extracts each signature's byte range and /Contents,
// BouncyCastle verifies the CMS over exactly those bytes. Prints one line per signed field:
//   VALID <field> <subfilter> <signer> [ts=<genTime>]
//   INVALID <field> <reason>
// For ETSI.CAdES.detached / adbe.pkcs7.detached the CMS must verify over the byte range; a
// signature timestamp (unsigned attribute id-aa-signatureTimeStampToken) must be a valid token
// over the SHA-256 of the signature value ("ts=" shows its time). For ETSI.RFC3161 (a document
// timestamp) the token must be valid and its imprint the SHA-256 of the byte range. Exits 0 only
// when every signature of every file is valid and its byte range starts at 0.
import java.io.File;
import java.security.MessageDigest;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.tsp.TimeStampToken;

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
                        byte[] contents = signature.getContents(bytes);
                        if ("ETSI.RFC3161".equals(signature.getSubFilter())) {
                            TimeStampToken token = new TimeStampToken(new CMSSignedData(contents));
                            verifyToken(token, sha256(signed));
                            System.out.println("VALID " + field + " ETSI.RFC3161 " + tsaName(token) + " ts=" + token.getTimeStampInfo().getGenTime().toInstant());
                            continue;
                        }
                        CMSSignedData cms = new CMSSignedData(new CMSProcessableByteArray(signed), contents);
                        Collection<SignerInformation> signers = cms.getSignerInfos().getSigners();
                        if (signers.size() != 1) throw new IllegalStateException(signers.size() + " signers");
                        SignerInformation signer = signers.iterator().next();
                        X509Certificate certificate = certificateOf(cms, signer);
                        boolean ok = signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(certificate));
                        if (!ok) throw new IllegalStateException("signature does not verify");
                        String timestamp = "";
                        AttributeTable unsigned = signer.getUnsignedAttributes();
                        Attribute tokenAttribute = unsigned == null ? null
                            : unsigned.get(PKCSObjectIdentifiers.id_aa_signatureTimeStampToken);
                        if (tokenAttribute != null) {
                            ASN1Encodable value = tokenAttribute.getAttrValues().getObjectAt(0);
                            TimeStampToken token = new TimeStampToken(new CMSSignedData(value.toASN1Primitive().getEncoded("DER")));
                            verifyToken(token, sha256(signer.getSignature()));
                            timestamp = " ts=" + token.getTimeStampInfo().getGenTime().toInstant();
                        }
                        System.out.println("VALID " + field + " " + signature.getSubFilter() + " "
                            + certificate.getSubjectX500Principal().getName() + timestamp);
                    } catch (Exception e) {
                        allValid = false;
                        System.out.println("INVALID " + field + " " + e.getMessage());
                    }
                }
            }
        }
        System.exit(allValid ? 0 : 1);
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    static X509Certificate certificateOf(CMSSignedData cms, SignerInformation signer) throws Exception {
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> matches = cms.getCertificates().getMatches(signer.getSID());
        if (matches.isEmpty()) throw new IllegalStateException("signer certificate missing");
        return new JcaX509CertificateConverter().setProvider("BC").getCertificate(matches.iterator().next());
    }

    static void verifyToken(TimeStampToken token, byte[] expectedImprint) throws Exception {
        if (!Arrays.equals(token.getTimeStampInfo().getMessageImprintDigest(), expectedImprint)) {
            throw new IllegalStateException("timestamp imprint does not match");
        }
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> matches = token.getCertificates().getMatches(token.getSID());
        if (matches.isEmpty()) throw new IllegalStateException("TSA certificate missing from the token");
        X509Certificate tsa = new JcaX509CertificateConverter().setProvider("BC").getCertificate(matches.iterator().next());
        // validate() checks the signature, the ESSCertID(v2) binding and the TSA's key purpose.
        token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(tsa));
    }

    static String tsaName(TimeStampToken token) throws Exception {
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> matches = token.getCertificates().getMatches(token.getSID());
        return matches.isEmpty() ? "?" : matches.iterator().next().getSubject().toString().replace(' ', '_');
    }
}
